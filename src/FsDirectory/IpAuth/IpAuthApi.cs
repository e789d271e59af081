using FsDirectory.Admin;
using FsDirectory.Data;

namespace FsDirectory.IpAuth;

/// <summary>"Why did this call fail?": the matcher's decision for an address and number, with every candidate considered.</summary>
public static class IpAuthApi
{
    public static RouteGroupBuilder MapIpAuthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/ip-auth").WithTags("IP authentication");
        group.MapGet("/resolve", Resolve).AddEndpointFilter(AdminAccess.RequireKeyOrLoopback);
        return group;
    }

    public static IResult Resolve(string? ip, string? number, string? profile, AdminCaller caller, AdminAccess access, SnapshotHolder snapshots)
    {
        if (snapshots.Current is not { } snapshot)
        {
            return Results.Problem("No data loaded yet.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        if (string.IsNullOrWhiteSpace(ip) || string.IsNullOrEmpty(number))
        {
            return Results.Problem("Both 'ip' and 'number' are required.", statusCode: StatusCodes.Status400BadRequest);
        }

        // Without keys the endpoint is loopback-only and unscoped.
        return Results.Ok(Explain(snapshot, ip, number, profile, access.Enabled ? caller : null));
    }

    /// <summary>
    /// The decision /freeswitch would make for this call, with every candidate rule. A reseller caller sees
    /// that a call would be accepted, but not another reseller's rules; a null caller sees everything.
    /// </summary>
    public static ResolveResponse Explain(Snapshot snapshot, string ip, string number, string? profile, AdminCaller? caller)
    {
        var decision = DialplanAnswers.Decide(snapshot, ip, number, profile);
        var candidates = IpAddressKey.TryParse(ip, out var source)
            ? snapshot.Rules.Candidates(source, number, string.IsNullOrEmpty(profile) ? null : profile)
            : [];
        bool Visible(IpRule rule) => caller?.ResellerId is not { } reseller || rule.ResellerId == reseller;
        return new ResolveResponse(
            decision.Accepted,
            decision.Reason,
            decision.Rule is null || !Visible(decision.Rule) ? null : RuleView.From(decision.Rule),
            decision.Number,
            decision.Context,
            [.. candidates.Where(Visible).Select(RuleView.From)],
            snapshot.Version);
    }
}

public sealed record ResolveResponse(bool Accepted, string? Reason, RuleView? Rule, string? Number, string? Context, IReadOnlyList<RuleView> Candidates, long SnapshotVersion);

public sealed record RuleView(int Id, string Name, int AccountId, string AccountCode, string Prefix, string Network, string? Profile, string Context)
{
    public static RuleView From(IpRule rule) =>
        new(rule.Id, rule.Name, rule.AccountId, rule.AccountCode, rule.Prefix, rule.Network.ToString(), rule.Profile, rule.Context);
}
