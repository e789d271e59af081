using FsDirectory.Admin;
using Microsoft.AspNetCore.Mvc;

namespace FsDirectory.AdminConsole.Pages;

/// <summary>Accounts and their "IP only" switch (the carrier's "Disable Credentials"); also the account field's search (JSON).</summary>
public sealed class AccountsModel(AccountsService accounts) : ConsolePageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    public int? PageNumber => RequestedPage;

    public AccountPage? Accounts { get; private set; }

    public int TotalPages => Accounts is null ? 0 : (int)Math.Max(1, (Accounts.Total + PageSize - 1) / PageSize);

    public async Task OnGetAsync(CancellationToken ct)
    {
        try
        {
            Accounts = await accounts.SearchAsync(Caller, new AccountQuery(Q, PageNumber, PageSize), ct);
        }
        catch (AdminProblemException problem)
        {
            Show(problem);
            Response.StatusCode = problem.Status;
        }
    }

    /// <summary>The account field's live search: the same search as GET /api/accounts, labelled for the list.</summary>
    public async Task<IActionResult> OnGetSearchAsync(string? q, CancellationToken ct)
    {
        var found = await accounts.SearchAsync(Caller, new AccountQuery(q, 1, AccountPicker.Shown), ct);
        return new JsonResult(new
        {
            items = found.Items.Select(a => new { id = a.Id, label = AccountPicker.Describe(a) }),
            total = found.Total,
        });
    }

    public async Task<IActionResult> OnPostIpOnlyAsync(int id, bool ipOnly, string? returnUrl, CancellationToken ct)
    {
        try
        {
            var account = await accounts.SetIpOnlyAsync(Caller, id, new IpOnlyChange { IpOnly = ipOnly }, ct);
            Notice = account.IpOnly
                ? $"Account {account.Number} is IP only: its devices can no longer authenticate with a password."
                : $"Account {account.Number} may authenticate its devices with passwords again.";
        }
        catch (AdminProblemException problem)
        {
            Alert = $"Nothing was changed: {problem.Message}.";
        }

        return BackTo(returnUrl);
    }

    public string PageUrl(int page) => PagedUrl("/Accounts", new { q = string.IsNullOrEmpty(Q) ? null : Q }, page);

    public string CurrentUrl => Request.Path + Request.QueryString;
}
