using FsDirectory.Admin;
using FsDirectory.Snapshots;
using Microsoft.AspNetCore.Mvc;

namespace FsDirectory.AdminConsole.Pages.IpSettings;

/// <summary>The IP settings list: the seed product's columns, filters, server-side paging and sorting, bulk actions.</summary>
public sealed class IndexModel(IpSettingsService rules, AccountsService accounts, DefaultSipProfileService profiles, SnapshotHolder snapshots)
    : ConsolePageModel
{
    public const int DefaultPageSize = 50;
    public static readonly int[] PageSizes = [25, 50, 100, 200];

    [BindProperty(SupportsGet = true)]
    public int? AccountId { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? AccountSearch { get; set; }

    [BindProperty(SupportsGet = true)]
    public int? ResellerId { get; set; }

    [BindProperty(SupportsGet = true)]
    public int? SipProfileId { get; set; }

    [BindProperty(SupportsGet = true)]
    public int? Status { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Sort { get; set; }

    public int? PageNumber => RequestedPage;

    [BindProperty(SupportsGet = true)]
    public int? PageSize { get; set; }

    public IpSettingPage? Rules { get; private set; }
    public AccountPicker Picker { get; private set; } = null!;
    public IReadOnlyList<AccountSummary> Resellers { get; private set; } = [];
    public DefaultSipProfile Profiles { get; private set; } = null!;
    public RuleHealth? Health { get; private set; }
    public string? DefaultProfileName { get; private set; }

    public int FilterCount =>
        new object?[] { AccountId, ResellerId, SipProfileId, Status, string.IsNullOrEmpty(Q) ? null : Q }.Count(f => f is not null);

    public int TotalPages => Rules is null ? 0 : (int)Math.Max(1, (Rules.Total + Rules.PageSize - 1) / Rules.PageSize);

    public async Task OnGetAsync(CancellationToken ct)
    {
        Profiles = await profiles.GetAsync(Caller, ct);
        Resellers = await accounts.ResellersAsync(Caller, ct);
        Picker = new AccountPicker("filter-account", "Account", nameof(AccountSearch), nameof(AccountId), AccountSearch, AccountId,
            await AccountPicker.OptionsAsync(accounts, Caller, AccountSearch, AccountId, ct), "Any account", null, null);
        var snapshot = snapshots.Current;
        Health = snapshot is null ? null : RuleHealth.Of(snapshot, Caller);
        DefaultProfileName = snapshot?.DefaultProfile;
        try
        {
            Rules = await rules.ListAsync(Caller, new ListQuery(AccountId, ResellerId, SipProfileId, Status, Q, PageNumber, PageSize ?? DefaultPageSize, Sort), ct);
        }
        catch (AdminProblemException problem)
        {
            Show(problem);
            Response.StatusCode = problem.Status;
        }
    }

    public Task<IActionResult> OnPostActivateAsync(int[] ids, string? returnUrl, CancellationToken ct) => SetStatusAsync(ids, 0, returnUrl, ct);

    public Task<IActionResult> OnPostDeactivateAsync(int[] ids, string? returnUrl, CancellationToken ct) => SetStatusAsync(ids, 1, returnUrl, ct);

    private async Task<IActionResult> SetStatusAsync(int[] ids, int status, string? returnUrl, CancellationToken ct)
    {
        try
        {
            var done = await rules.SetStatusAsync(Caller, new StatusRequest { Ids = ids, Status = status }, ct);
            Notice = $"{done.Count} IP setting(s) {(status == 0 ? "activated" : "deactivated")}: {string.Join(", ", done.Ids)}.";
        }
        catch (AdminProblemException problem)
        {
            Alert = $"Nothing was changed: {problem.Message}.";
        }

        return BackTo(returnUrl);
    }

    /// <summary>The SIP profile column: a rule on the global default says which profile that is now.</summary>
    public string ProfileLabel(int sipProfileId)
    {
        if (sipProfileId == 0)
        {
            return Profiles.Problem is not null ? "global default (unusable)" : $"global default ({DefaultProfileName ?? "every profile"})";
        }

        return Profiles.Profiles.FirstOrDefault(p => p.Id == sipProfileId) is { } profile
            ? profile.Name + (profile.Usable ? string.Empty : profile.Active ? " (unusable)" : " (inactive)")
            : $"profile {sipProfileId} (missing)";
    }

    /// <summary>This list's URL with some values changed: filters are kept, and changing them goes back to page 1.</summary>
    public string ListUrl(int? page = null, string? sort = null) =>
        PagedUrl("/IpSettings/Index", new
        {
            accountId = AccountId,
            resellerId = ResellerId,
            sipProfileId = SipProfileId,
            status = Status,
            q = string.IsNullOrEmpty(Q) ? null : Q,
            sort = sort ?? (string.IsNullOrEmpty(Sort) ? null : Sort),
            pageSize = PageSize,
        }, page ?? PageNumber ?? 1);

    /// <summary>aria-sort of a column, and the link that sorts by it (ascending first, then descending).</summary>
    public (string? AriaSort, string Url) SortBy(string key)
    {
        var current = string.IsNullOrEmpty(Sort) ? "id" : Sort;
        var aria = current == key ? "ascending" : current == "-" + key ? "descending" : null;
        return (aria, ListUrl(page: 1, sort: current == key ? "-" + key : key));
    }

    public string CurrentUrl => Request.Path + Request.QueryString;
}
