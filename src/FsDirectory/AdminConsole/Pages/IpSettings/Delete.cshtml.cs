using FsDirectory.Admin;
using Microsoft.AspNetCore.Mvc;

namespace FsDirectory.AdminConsole.Pages.IpSettings;

/// <summary>Deleting is two steps: the selection is shown (and counted) first, then deleted all or nothing.</summary>
public sealed class DeleteModel(IpSettingsService rules) : ConsolePageModel
{
    [BindProperty]
    public int[] Ids { get; set; } = [];

    [BindProperty]
    public string? ReturnUrl { get; set; }

    public IReadOnlyList<IpSetting> Selected { get; private set; } = [];

    public IActionResult OnGet() => RedirectToPage("/IpSettings/Index");

    /// <summary>The confirmation: only the caller's rules are listed; any other id makes the delete refuse, as the API does.</summary>
    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        try
        {
            Selected = await rules.GetManyAsync(Caller, Ids, ct);
            return Page();
        }
        catch (AdminProblemException problem)
        {
            Alert = $"Nothing was deleted: {problem.Message}.";
            return BackTo(ReturnUrl);
        }
    }

    public async Task<IActionResult> OnPostDeleteAsync(CancellationToken ct)
    {
        try
        {
            var done = await rules.DeleteManyAsync(Caller, Ids, ct);
            Notice = $"{done.Count} IP setting(s) deleted: {string.Join(", ", done.Ids)}.";
        }
        catch (AdminProblemException problem)
        {
            Alert = $"Nothing was deleted: {problem.Message}.";
        }

        return BackTo(ReturnUrl);
    }
}
