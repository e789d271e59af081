using FsDirectory.Admin;
using FsDirectory.IpAuth;
using FsDirectory.Limits;
using FsDirectory.Snapshots;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace FsDirectory.AdminConsole.Pages;

/// <summary>"Test a call": the decision /freeswitch would make for a source address, number and profile (GET /api/ip-auth/resolve).</summary>
public sealed class TestCallModel(SnapshotHolder snapshots, DefaultSipProfileService profiles, IOptionsMonitor<LimitsOptions> limits) : ConsolePageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Ip { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Number { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Profile { get; set; }

    public ResolveResponse? Result { get; private set; }
    public IReadOnlyList<SipProfileOption> Profiles { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        Profiles = (await profiles.GetAsync(Caller, ct)).Profiles.Where(p => p.Usable).ToList();
        if (Ip is null && Number is null)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(Ip) || string.IsNullOrEmpty(Number))
        {
            Error = "Give both the source IP address and the dialled number.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        if (snapshots.Current is not { } snapshot)
        {
            Error = "No data loaded yet.";
            Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        Result = IpAuthApi.Explain(snapshot, Ip.Trim(), Number, Profile, via: null, Caller, limits.CurrentValue);
    }
}
