using FsDirectory.Admin;
using FsDirectory.FreeSwitch;
using FsDirectory.Limits;
using FsDirectory.Proxies;
using FsDirectory.Snapshots;
using Microsoft.Extensions.Options;

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
    public static IResult Resolve(
        string? ip, string? number, string? profile, string? via, AdminCaller caller, AdminAccess access, SnapshotHolder snapshots, IOptionsMonitor<LimitsOptions> limits)
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
        return Results.Ok(Explain(snapshot, ip, number, profile, via, access.Enabled ? caller : null, limits.CurrentValue));
    }

    /// <summary>
    /// The decision /freeswitch would make for this call, with every candidate rule. A reseller caller
    /// learns whether the call would be accepted, but of the rules only those it may see (the same rule
    /// as the list: <see cref="AdminCaller.CanSee(IpRule)"/>); a winner it may not see is "a rule you
    /// cannot see", without its number, context or prefix. Nor does it see the operator's proxy list.
    /// A null caller sees everything.
    /// </summary>
    public static ResolveResponse Explain(Snapshot snapshot, string ip, string number, string? profile, string? via, AdminCaller? caller, LimitsOptions? limits = null)
    {
        profile = string.IsNullOrEmpty(profile) ? null : profile;
        var relayed = !string.IsNullOrWhiteSpace(via);
        var decision = relayed
            ? DialplanAnswers.Decide(snapshot, via!, number, profile, xAuthIp: ip)
            : DialplanAnswers.Decide(snapshot, ip, number, profile);
        var candidates = decision.Matched is { } matched ? snapshot.Rules.Candidates(matched, number, profile) : [];
        var operatorView = caller is null || caller.IsOperator;
        bool Visible(IpRule rule) => caller is null || caller.CanSee(rule);
        var hidden = decision.Rule is { } winner && !Visible(winner);
        return new ResolveResponse(
            decision.Accepted,
            hidden && decision.Reason is not null ? HiddenRuleRefusal : decision.Reason,
            decision.Rule is null || hidden ? null : RuleView.From(decision.Rule),
            hidden ? null : decision.Number,
            hidden ? null : decision.Context,
            [.. candidates.Where(Visible).Select(RuleView.From)],
            snapshot.Version,
            decision.Matched?.ToString(),
            AddressReason(decision, ip, relayed ? via : null, profile, operatorView),
            operatorView && decision.Proxy is { } proxy ? ProxyView.From(proxy) : null)
        {
            RuleHidden = hidden,
            Limits = decision.Accepted && !hidden && limits is not null ? CallLimitsView.Of(snapshot, decision.Rule!.AccountId, limits) : null,
        };
    }

    /// <summary>Why a call was refused by a rule the caller may not see: its own reason would tell the rule's prefix.</summary>
    public const string HiddenRuleRefusal = "the number is refused by a rule you cannot see (it belongs to another reseller's account)";

    /// <summary>Which address the rules were matched against, and why that one.</summary>
    private static string AddressReason(IpAuthDecision decision, string ip, string? via, string? profile, bool operatorView)
    {
        var on = profile is null ? "calls without a profile" : $"profile {profile}";
        if (decision.Source is not { } source)
        {
            return $"'{LogText.Bounded(via ?? ip)}' is not an IP address: nothing is matched";
        }

        if (decision.Proxy is { } proxy)
        {
            // The proxy list is the operator's: a reseller learns that the source is trusted, not the configured network.
            var trusted = operatorView ? $"{source} is a trusted proxy ({proxy.Network}) on {on}" : $"{source} is a trusted proxy on {on}";
            if (via is null)
            {
                return $"{trusted} and the call carries no X-AUTH-IP: matched as the proxy itself";
            }

            return IpAddressKey.TryParseExact(ip, out _)
                ? $"{trusted}: matched by its X-AUTH-IP {decision.Matched}"
                : $"{trusted}, but its X-AUTH-IP is not exactly one IPv4 or IPv6 address: refused";
        }

        return via is null
            ? $"a direct call: matched by its source address {source}"
            : $"{source} is not a trusted proxy on {on}: its X-AUTH-IP is ignored (and counted as a spoof attempt), matched by the source address {source}";
    }
}

public sealed record ResolveResponse(
    bool Accepted, string? Reason, RuleView? Rule, string? Number, string? Context, IReadOnlyList<RuleView> Candidates, long SnapshotVersion,
    string? MatchedAddress, string AddressReason, ProxyView? Proxy)
{
    /// <summary>The call is decided by a rule the caller may not see: <see cref="Rule"/>, <see cref="Number"/> and <see cref="Context"/> are left out.</summary>
    public bool RuleHidden { get; init; }

    /// <summary>The account and reseller limits the call gets (Limits); null when it is refused or its rule is hidden.</summary>
    public CallLimitsView? Limits { get; init; }
}

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
