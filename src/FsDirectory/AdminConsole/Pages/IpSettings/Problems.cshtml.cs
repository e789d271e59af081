using FsDirectory.Admin;
using FsDirectory.Snapshots;

namespace FsDirectory.AdminConsole.Pages.IpSettings;

/// <summary>What GET /api/ip-settings/problems returns: unusable rows, ties and shadowed rules, each linked to its rule.</summary>
public sealed class ProblemsModel(IpSettingsService rules, SnapshotHolder snapshots) : ConsolePageModel
{
    public IReadOnlyList<IpSettingProblem> Problems { get; private set; } = [];

    /// <summary>The global default profile is broken: every rule on it is refused (fail closed).</summary>
    public string? DefaultProfileProblem { get; private set; }

    public long? SnapshotVersion { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        try
        {
            Problems = await rules.ProblemsAsync(Caller, ct);
            SnapshotVersion = snapshots.Current?.Version;
            DefaultProfileProblem = snapshots.Current?.Problems.FirstOrDefault(p => p.Table == "system")?.Problem;
        }
        catch (AdminProblemException problem)
        {
            Show(problem);
            Response.StatusCode = problem.Status;
        }
    }

    public static string KindLabel(string kind) => kind switch
    {
        "unusable" => "Unusable",
        "tie" => "Tie",
        "shadowed" => "Shadowed",
        _ => kind,
    };
}
