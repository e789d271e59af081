using FsDirectory.Admin;
using Microsoft.AspNetCore.Mvc;

namespace FsDirectory.AdminConsole.Pages;

/// <summary>
/// The global default SIP profile (the seed's configuration setting). A change is previewed first: the page says
/// how many rules would move to another profile, and only then offers to save.
/// </summary>
public sealed class DefaultProfileModel(DefaultSipProfileService service) : ConsolePageModel
{
    [BindProperty(SupportsGet = true)]
    public int? Proposed { get; set; }

    public DefaultSipProfile Current { get; private set; } = null!;
    public DefaultSipProfileImpact? Impact { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Current = await service.GetAsync(Caller, ct);
        if (Proposed is null)
        {
            return;
        }

        try
        {
            Impact = await service.PreviewAsync(Caller, Proposed, ct);
        }
        catch (AdminProblemException problem)
        {
            ModelState.AddModelError(nameof(Proposed), problem.Message);
            Response.StatusCode = problem.Status;
        }
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        try
        {
            var done = await service.SetAsync(Caller, new DefaultSipProfileChange { SipProfileId = Proposed }, ct);
            Notice = $"The global default SIP profile is now {done.Proposed} (was {done.Current}): {done.RulesChanging} IP setting(s) changed profile, {done.ActiveRulesChanging} of them active.";
        }
        catch (AdminProblemException problem)
        {
            Alert = $"Nothing was changed: {problem.Message}.";
        }

        return RedirectToPage("/DefaultProfile");
    }
}
