using FsDirectory.Admin;
using FsDirectory.Data;
using FsDirectory.FreeSwitch;
using FsDirectory.Proxies;

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

    /// <param name="ip">The caller's address: the call's source, or with <paramref name="via"/> the X-AUTH-IP the proxy adds.</param>
    /// <param name="via">The address the call reaches the switch from when it is relayed by a SIP proxy.</param>
    public static IResult Resolve(string? ip, string? number, string? profile, string? via, AdminCaller caller, AdminAccess access, SnapshotHolder snapshots)
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
        return Results.Ok(Explain(snapshot, ip, number, profile, via, access.Enabled ? caller : null));
    }

    /// <summary>
    /// The decision /freeswitch would make for this call, with every candidate rule. A reseller caller
    /// sees that a call would be accepted, but not another reseller's rules nor the operator's proxy
    /// list; a null caller sees everything.
    /// </summary>
    public static ResolveResponse Explain(Snapshot snapshot, string ip, string number, string? profile, string? via, AdminCaller? caller)
    {
        profile = string.IsNullOrEmpty(profile) ? null : profile;
        var relayed = !string.IsNullOrWhiteSpace(via);
        var decision = relayed
            ? DialplanAnswers.Decide(snapshot, via!, number, profile, xAuthIp: ip)
            : DialplanAnswers.Decide(snapshot, ip, number, profile);
        var candidates = decision.Matched is { } matched ? snapshot.Rules.Candidates(matched, number, profile) : [];
        var operatorView = caller?.ResellerId is null;
        bool Visible(IpRule rule) => operatorView || rule.ResellerId == caller!.ResellerId;
        return new ResolveResponse(
            decision.Accepted,
            decision.Reason,
            decision.Rule is null || !Visible(decision.Rule) ? null : RuleView.From(decision.Rule),
            decision.Number,
            decision.Context,
            [.. candidates.Where(Visible).Select(RuleView.From)],
            snapshot.Version,
            decision.Matched?.ToString(),
            AddressReason(decision, ip, relayed ? via : null, profile),
            operatorView && decision.Proxy is { } proxy ? ProxyView.From(proxy) : null);
    }

    /// <summary>Which address the rules were matched against, and why that one.</summary>
    private static string AddressReason(IpAuthDecision decision, string ip, string? via, string? profile)
    {
        var on = profile is null ? "calls without a profile" : $"profile {profile}";
        if (decision.Source is not { } source)
        {
            return $"'{LogText.Bounded(via ?? ip)}' is not an IP address: nothing is matched";
        }

        if (decision.Proxy is { } proxy)
        {
            if (via is null)
            {
                return $"{source} is a trusted proxy ({proxy.Network}) on {on} and the call carries no X-AUTH-IP: matched as the proxy itself";
            }

            return IpAddressKey.TryParseExact(ip, out _)
                ? $"{source} is a trusted proxy ({proxy.Network}) on {on}: matched by its X-AUTH-IP {decision.Matched}"
                : $"{source} is a trusted proxy ({proxy.Network}) on {on}, but its X-AUTH-IP is not exactly one IPv4 or IPv6 address: refused";
        }

        return via is null
            ? $"a direct call: matched by its source address {source}"
            : $"{source} is not a trusted proxy on {on}: its X-AUTH-IP is ignored (and counted as a spoof attempt), matched by the source address {source}";
    }
}

public sealed record ResolveResponse(
    bool Accepted, string? Reason, RuleView? Rule, string? Number, string? Context, IReadOnlyList<RuleView> Candidates, long SnapshotVersion,
    string? MatchedAddress, string AddressReason, ProxyView? Proxy);

public sealed record RuleView(int Id, string Name, int AccountId, string AccountCode, string Prefix, string Network, string? Profile, string Context)
{
    public static RuleView From(IpRule rule) =>
        new(rule.Id, rule.Name, rule.AccountId, rule.AccountCode, rule.Prefix, rule.Network.ToString(), rule.Profile, rule.Context);
}

/// <summary>The trusted proxy a call came through; <see cref="Profile"/> null = trusted on every profile.</summary>
public sealed record ProxyView(int Id, string Name, string Network, string? Profile)
{
    public static ProxyView From(TrustedProxy proxy) => new(proxy.Id, proxy.Name, proxy.Network.ToString(), proxy.Profile);
}
