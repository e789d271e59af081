using FsDirectory.Admin;
using FsDirectory.Snapshots;
using Microsoft.AspNetCore.Mvc;

namespace FsDirectory.AdminConsole.Pages.IpSettings;

/// <summary>Create (no id) or edit one IP setting. A refusal is shown next to the field the API names, and what was typed is kept.</summary>
public sealed class EditModel(IpSettingsService rules, AccountsService accounts, DefaultSipProfileService profiles, SnapshotHolder snapshots)
    : ConsolePageModel
{
    /// <summary>The API's problem <c>field</c> → the form field it belongs next to.</summary>
    private static readonly Dictionary<string, string> Fields = new(StringComparer.Ordinal)
    {
        ["name"] = "Input.Name", ["ip"] = "Input.Ip", ["accountId"] = "Input.AccountId", ["resellerId"] = "Input.AccountId",
        ["sipProfileId"] = "Input.SipProfileId", ["prefix"] = "Input.Prefix", ["context"] = "Input.Context", ["status"] = "Input.Status",
    };

    [BindProperty(SupportsGet = true)]
    public int? Id { get; set; }

    /// <summary>What the form posts, as the API takes it; the service validates it (the page adds no rules of its own).</summary>
    [BindProperty]
    public IpSettingInput Input { get; set; } = new();

    [BindProperty]
    public string? AccountSearch { get; set; }

    public IpSetting? Existing { get; private set; }
    public RuleState? State { get; private set; }
    public AccountPicker Picker { get; private set; } = null!;
    public DefaultSipProfile Profiles { get; private set; } = null!;

    /// <summary>The rule a 409 names (same network, prefix and profile).</summary>
    public int? ConflictId { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (Id is { } id)
        {
            if (await FindAsync(id, ct) is not { } rule)
            {
                return NotFound();
            }

            Input = new IpSettingInput
            {
                Name = rule.Name, Ip = rule.Ip, AccountId = rule.AccountId, SipProfileId = rule.SipProfileId,
                Prefix = rule.Prefix, Context = rule.Context, Status = rule.Status,
            };
        }
        else
        {
            Input = new IpSettingInput { SipProfileId = 0, Context = IpSettingsService.DefaultContext, Status = 0 };
        }

        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        try
        {
            var saved = Id is { } id
                ? await rules.ReplaceAsync(Caller, id, Input, ct)
                : await rules.CreateAsync(Caller, Input, ct);
            Notice = $"IP setting {saved.Id} ({saved.Name}, {saved.Ip}) {(Id is null ? "created" : "saved")}. FreeSWITCH is answered with it now.";
            return RedirectToPage("/IpSettings/Index", new { sort = Id is null ? "-id" : null });
        }
        catch (AdminProblemException problem) when (problem.Status == StatusCodes.Status404NotFound && problem.Field == "id")
        {
            return NotFound();
        }
        catch (AdminProblemException problem)
        {
            Show(problem, Fields);
            ConflictId = problem.ExistingId;
            Response.StatusCode = problem.Status;
        }

        if (Id is { } existing && await FindAsync(existing, ct) is null)
        {
            return NotFound();
        }

        await LoadAsync(ct);
        return Page();
    }

    /// <summary>"Find" without JavaScript: the same form again, with the accounts matching the search.</summary>
    public async Task<IActionResult> OnPostFindAccountAsync(CancellationToken ct)
    {
        if (Id is { } id && await FindAsync(id, ct) is null)
        {
            return NotFound();
        }

        await LoadAsync(ct);
        return Page();
    }

    private async Task<IpSetting?> FindAsync(int id, CancellationToken ct)
    {
        try
        {
            Existing = await rules.GetAsync(Caller, id, ct);
            State = snapshots.Current is { } snapshot ? RuleHealth.Of(snapshot, Caller).StateOf(Existing) : null;
            return Existing;
        }
        catch (AdminProblemException problem) when (problem.Status == StatusCodes.Status404NotFound)
        {
            return null;
        }
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        Profiles = await profiles.GetAsync(Caller, ct);
        Picker = new AccountPicker("account", "Account", nameof(AccountSearch), "Input.AccountId", AccountSearch, Input.AccountId,
            await AccountPicker.OptionsAsync(accounts, Caller, AccountSearch, Input.AccountId, ct), "Choose an account", "FindAccount",
            FieldError("Input.AccountId"));
    }

    /// <summary>The profiles a rule may take: active ones, and the rule's own even if it is not (so editing shows it as it is).</summary>
    public IEnumerable<SipProfileOption> ProfileChoices =>
        Profiles.Profiles.Where(p => p.Active || p.Id == Input.SipProfileId);

    public string DefaultProfileLabel =>
        $"Global default: {Profiles.Label}";
}
