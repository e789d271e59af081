using FsDirectory.FreeSwitch;
using FsDirectory.Limits;
using FsDirectory.Metrics;
using FsDirectory.Proxies;
using FsDirectory.Snapshots;
using FsDirectory.Xml;
using Microsoft.Extensions.Options;

namespace FsDirectory.IpAuth;

/// <summary>
/// Source-IP authentication in the dialplan: find the rule for the call's source address and dialled
/// number, strip the tech prefix, tag the channel with the account and transfer to the routing context.
/// The source address is the network address, or the <c>X-AUTH-IP</c> header when the network address
/// is a trusted proxy of the call's profile (and only then).
/// </summary>
public sealed partial class DialplanAnswers(
    IOptionsMonitor<FreeSwitchOptions> options, IOptionsMonitor<LimitsOptions> limits, FsDirectoryMetrics metrics, TimeProvider time,
    ILogger<DialplanAnswers> logger)
{
    private readonly LogThrottle _rejectedLines = new(options, time);
    private readonly LogThrottle _untrustedHeaderLines = new(options, time);

    public XmlAnswer Answer(FreeSwitchRequest request, Snapshot snapshot)
    {
        var context = request.Context;
        // A profile in dialplan mode lets every INVITE in unchallenged (auth-calls=false): its calls are
        // decided here whatever FreeSwitch:ServedContexts says, since a not found would hand an
        // unauthenticated call to the switch's static dialplan.
        if (context.Length == 0 || (!IsServed(context) && !IsGatekeeper(snapshot, request.SofiaProfile)))
        {
            return XmlAnswer.NotFound;
        }

        // Already authenticated (a device through its directory variables, or a call we transferred):
        // FreeSWITCH continues with its own dialplan for the context. A caller cannot set this variable
        // on a profile that does not challenge it (dialplan mode): sofia turns SIP headers into prefixed
        // variables only (sip_h_X-*, sip_h_P-*, sip_i_*; sofia.c), never into a name of the caller's
        // choosing, and mod_xml_curl writes event header names as they are, so a header name cannot
        // become this form field either. An INVITE that carries credentials is still checked by sofia
        // with auth-calls=false, and one that fails is refused before any dialplan fetch.
        if (request.FsdirAuth.Length > 0)
        {
            return XmlAnswer.NotFound;
        }

        var decision = Decide(snapshot, request.NetworkAddress, request.DestinationNumber, request.SofiaProfile, request.XAuthIp);
        if (decision.UntrustedHeader)
        {
            // Ignored, and the call goes on as from its real source; but someone tried, or a proxy is missing from the list.
            metrics.UntrustedXAuthIp.Inc();
            if (_untrustedHeaderLines.TryWrite(out var left))
            {
                LogUntrustedHeader(LogText.Bounded(request.XAuthIp ?? string.Empty), LogText.Bounded(request.NetworkAddress),
                    LogText.Bounded(request.SofiaProfile), LogText.Bounded(request.DestinationNumber), left);
            }
        }

        if (decision.Proxy is not null && request.XAuthIpCopies > 1)
        {
            metrics.RepeatedXAuthIp.Inc();
        }

        if (!decision.Accepted || decision.Rule is not { } rule)
        {
            if (_rejectedLines.TryWrite(out var suppressed))
            {
                LogRejected(SourceText(request, decision), LogText.Bounded(request.DestinationNumber),
                    LogText.Bounded(request.SofiaProfile), LogText.Bounded(context), decision.Reason ?? string.Empty, suppressed);
            }

            return Reject(context);
        }

        // Accepted calls are counted in /metrics; a line each is for debugging only (at thousands of
        // calls per second it would cost more than the answer itself).
        if (logger.IsEnabled(LogLevel.Debug))
        {
            LogAccepted(SourceText(request, decision), LogText.Bounded(request.DestinationNumber), rule.Id, rule.AccountCode, decision.Number!, decision.Context!);
        }
        var xml = new FsXmlWriter(2048).StartDocument("dialplan");
        xml.Start("context").Attr("name", context).Open();
        xml.Start("extension").Attr("name", "fsdir_ip_auth").Open();
        xml.Start("condition").Open();
        Set(xml, "accountcode", rule.AccountCode);
        Set(xml, "fsdir_auth", "ip");
        Set(xml, "fsdir_account_id", rule.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set(xml, "fsdir_reseller_id", rule.ResellerId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set(xml, "fsdir_pricelist_id", rule.PricelistId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set(xml, "fsdir_ip_rule_id", rule.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set(xml, "fsdir_ip_rule_name", DialString.ToSafeText(rule.Name));
        Set(xml, "fsdir_tech_prefix", rule.Prefix);
        // Checked: the prefix and the stripped number both passed their character sets.
        Set(xml, "fsdir_original_destination", request.DestinationNumber);
        if (decision.Proxy is not null)
        {
            // Both are parsed addresses written canonically: nothing caller-controlled reaches the data as sent.
            Set(xml, "fsdir_proxy", decision.Source!.Value.ToString());
            Set(xml, "fsdir_source_ip", decision.Matched!.Value.ToString());
        }

        var limitOptions = limits.CurrentValue;
        if (limitOptions.Enabled && CallLimits.Of(snapshot, rule.AccountId).Write(xml, limitOptions))
        {
            metrics.LimitedDialplanAnswers.Inc();
        }

        xml.Start("action").Attr("application", "transfer").Attr("data", $"{decision.Number} XML {decision.Context}").Close();
        xml.End("condition").End("extension").End("context").EndDocument();
        return new XmlAnswer(xml.WrittenMemory, "answered");
    }

    /// <summary>The whole decision, shared by the dialplan answer and the explain endpoint.</summary>
    /// <param name="networkAddress">Where the INVITE came from (<c>Hunt-Network-Addr</c>).</param>
    /// <param name="xAuthIp">The call's <c>X-AUTH-IP</c> header, null when it has none.</param>
    public static IpAuthDecision Decide(Snapshot snapshot, string networkAddress, string number, string? profile, string? xAuthIp = null)
    {
        if (!IpAddressKey.TryParse(networkAddress, out var source))
        {
            return IpAuthDecision.Rejected("the source address is not an IP address");
        }

        profile = string.IsNullOrEmpty(profile) ? null : profile;
        var proxy = snapshot.Proxies.Find(source, profile);
        var matched = source;
        IpAuthDecision Rejected(string reason, IpRule? rule = null) =>
            new(rule, null, null, reason) { Source = source, Matched = matched, Proxy = proxy, UntrustedHeader = proxy is null && xAuthIp is not null };

        // From a trusted proxy the header names the caller; without one the call is matched as the proxy's
        // own (a proxy's address alone is rarely a customer). Anything but one address is refused, not guessed at.
        if (proxy is not null && xAuthIp is not null && !IpAddressKey.TryParseExact(xAuthIp, out matched))
        {
            matched = source;
            return Rejected(xAuthIp.Contains(',', StringComparison.Ordinal)
                ? $"X-AUTH-IP from trusted proxy {source} is a list ('{LogText.Bounded(xAuthIp)}'), not exactly one IPv4 or IPv6 address"
                : $"X-AUTH-IP '{LogText.Bounded(xAuthIp)}' from trusted proxy {source} is not exactly one IPv4 or IPv6 address");
        }

        if (number.Length == 0)
        {
            return Rejected("no destination number");
        }

        var rule = snapshot.Rules.Match(matched, number, profile);
        if (rule is null)
        {
            return Rejected(proxy is not null
                ? $"no usable IP rule matches {matched} (relayed by trusted proxy {source}) and number{(profile is null ? string.Empty : " on profile " + profile)}"
                : profile is null
                    ? "no usable IP rule matches the source address and number"
                    : $"no usable IP rule matches the source address and number on profile {profile}");
        }

        var stripped = number[rule.PrefixLength..];
        if (!DialString.IsValidNumber(stripped))
        {
            return Rejected(
                $"the number after the prefix must be 1-{DialString.MaxNumberLength} characters of A-Z a-z 0-9 + * # . _ -", rule);
        }

        return new IpAuthDecision(rule, stripped, rule.Context, null) { Source = source, Matched = matched, Proxy = proxy, UntrustedHeader = proxy is null && xAuthIp is not null };
    }

    /// <summary>The caller's address for a log line: the matched address, and the proxy it came through.</summary>
    private static string SourceText(FreeSwitchRequest request, IpAuthDecision decision) =>
        decision.Proxy is null ? LogText.Bounded(request.NetworkAddress) : $"{decision.Matched} via proxy {decision.Source}";

    /// <summary>
    /// The answer to a dialplan fetch that could not be read whole (too many fields, too large, a field
    /// twice), when its call may come from a profile in dialplan mode: the 403 it would get without a
    /// rule. Null otherwise (the request is refused as before: the call was authenticated by sofia, or it
    /// is not a dialplan fetch). A profile not read yet counts as dialplan mode: fail closed.
    /// </summary>
    public XmlAnswer? RefuseUnreadCall(FreeSwitchRequest request, Snapshot snapshot)
    {
        var context = request.Context;
        if (!string.Equals(request.Section, "dialplan", StringComparison.OrdinalIgnoreCase) || context.Length == 0 || request.FsdirAuth.Length > 0
            || (request.SofiaProfile.Length > 0 && !IsGatekeeper(snapshot, request.SofiaProfile)))
        {
            return null;
        }

        metrics.UnreadDialplanRefused.Inc();
        return Reject(context);
    }

    /// <summary>Whether the call's profile is in dialplan mode, where this answer alone lets IP-authenticated calls in.</summary>
    public static bool IsGatekeeper(Snapshot snapshot, string profile)
    {
        // On every dialplan fetch: a scan of a handful of profiles, without a closure.
        var profiles = snapshot.Profiles;
        for (var i = 0; i < profiles.Count; i++)
        {
            if (profiles[i].Mode == Profiles.IpAuthMode.Dialplan && string.Equals(profiles[i].Name, profile, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsServed(string context)
    {
        var served = options.CurrentValue.ServedContexts;
        return served.Count == 0 || served.Contains(context, StringComparer.Ordinal);
    }

    private static XmlAnswer Reject(string context)
    {
        var xml = new FsXmlWriter(512).StartDocument("dialplan");
        xml.Start("context").Attr("name", context).Open();
        xml.Start("extension").Attr("name", "fsdir_ip_auth_reject").Open();
        xml.Start("condition").Open();
        xml.Start("action").Attr("application", "respond").Attr("data", "403 Forbidden").Close();
        xml.End("condition").End("extension").End("context").EndDocument();
        return new XmlAnswer(xml.WrittenMemory, "rejected");
    }

    private static void Set(FsXmlWriter xml, string name, string value) =>
        xml.Start("action").Attr("application", "set").Attr("data", $"{name}={value}").Close();

    [LoggerMessage(Level = LogLevel.Debug, Message = "IP auth: call from {Source} to {Number} accepted by rule {RuleId} (account {AccountCode}), transferred as {Stripped} to {Context}")]
    private partial void LogAccepted(string source, string number, int ruleId, string accountCode, string stripped, string context);

    [LoggerMessage(Level = LogLevel.Warning, Message = "IP auth: call from {Source} to {Number} on profile {Profile} in context {CallContext} rejected: {Reason} ({Suppressed} similar lines left out before this one)")]
    private partial void LogRejected(string source, string number, string profile, string callContext, string reason, long suppressed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "IP auth: X-AUTH-IP '{Header}' ignored on a call from {Source} (profile {Profile}, number {Number}): not a trusted proxy of the profile; matched by its own address ({Suppressed} similar lines left out before this one)")]
    private partial void LogUntrustedHeader(string header, string source, string profile, string number, long suppressed);
}

/// <summary>Outcome of matching one call. <see cref="Rule"/> is null when rejected; it may be set with a reason when the rule matched but the number was refused.</summary>
public sealed record IpAuthDecision(IpRule? Rule, string? Number, string? Context, string? Reason)
{
    public bool Accepted => Reason is null;

    /// <summary>The call's network address; null when it is not an address.</summary>
    public IpAddressKey? Source { get; init; }

    /// <summary>The address the rules were matched against: X-AUTH-IP from a trusted proxy, otherwise <see cref="Source"/>.</summary>
    public IpAddressKey? Matched { get; init; }

    /// <summary>The trusted proxy <see cref="Source"/> belongs to on the call's profile; null for a direct call.</summary>
    public TrustedProxy? Proxy { get; init; }

    /// <summary>The call carried X-AUTH-IP, but not from a trusted proxy of its profile, so the header was ignored.</summary>
    public bool UntrustedHeader { get; init; }

    public static IpAuthDecision Rejected(string reason, IpRule? rule = null) => new(rule, null, null, reason);
}
