using FsDirectory.Data;
using FsDirectory.FreeSwitch;
using FsDirectory.Xml;
using Microsoft.Extensions.Options;

namespace FsDirectory.IpAuth;

/// <summary>
/// Source-IP authentication in the dialplan: find the rule for the call's source address and dialled
/// number, strip the tech prefix, tag the channel with the account and transfer to the routing context.
/// </summary>
public sealed partial class DialplanAnswers(IOptionsMonitor<FreeSwitchOptions> options, TimeProvider time, ILogger<DialplanAnswers> logger)
{
    private readonly LogThrottle _rejectedLines = new(options, time);

    public XmlAnswer Answer(FreeSwitchRequest request, Snapshot snapshot)
    {
        var context = request.Context;
        if (context.Length == 0 || !IsServed(context))
        {
            return XmlAnswer.NotFound;
        }

        // Already authenticated (a device through its directory variables, or a call we transferred):
        // FreeSWITCH continues with its own dialplan for the context.
        if (request.FsdirAuth.Length > 0)
        {
            return XmlAnswer.NotFound;
        }

        var decision = Decide(snapshot, request.NetworkAddress, request.DestinationNumber, request.SofiaProfile);
        if (!decision.Accepted || decision.Rule is not { } rule)
        {
            if (_rejectedLines.TryWrite(out var suppressed))
            {
                LogRejected(LogText.Bounded(request.NetworkAddress), LogText.Bounded(request.DestinationNumber),
                    LogText.Bounded(request.SofiaProfile), LogText.Bounded(context), decision.Reason ?? string.Empty, suppressed);
            }

            return Reject(context);
        }

        // Accepted calls are counted in /metrics; a line each is for debugging only (at thousands of
        // calls per second it would cost more than the answer itself).
        if (logger.IsEnabled(LogLevel.Debug))
        {
            LogAccepted(LogText.Bounded(request.NetworkAddress), LogText.Bounded(request.DestinationNumber), rule.Id, rule.AccountCode, decision.Number!, decision.Context!);
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
        xml.Start("action").Attr("application", "transfer").Attr("data", $"{decision.Number} XML {decision.Context}").Close();
        xml.End("condition").End("extension").End("context").EndDocument();
        return new XmlAnswer(xml.WrittenMemory, "answered");
    }

    /// <summary>The whole decision, shared by the dialplan answer and the explain endpoint.</summary>
    public static IpAuthDecision Decide(Snapshot snapshot, string sourceAddress, string number, string? profile)
    {
        if (!IpAddressKey.TryParse(sourceAddress, out var source))
        {
            return IpAuthDecision.Rejected("the source address is not an IP address");
        }

        if (number.Length == 0)
        {
            return IpAuthDecision.Rejected("no destination number");
        }

        profile = string.IsNullOrEmpty(profile) ? null : profile;
        var rule = snapshot.Rules.Match(source, number, profile);
        if (rule is null)
        {
            return IpAuthDecision.Rejected(profile is null
                ? "no usable IP rule matches the source address and number"
                : $"no usable IP rule matches the source address and number on profile {profile}");
        }

        var stripped = number[rule.Prefix.Length..];
        if (!DialString.IsValidNumber(stripped))
        {
            return IpAuthDecision.Rejected(
                $"the number after the prefix must be 1-{DialString.MaxNumberLength} characters of A-Z a-z 0-9 + * # . _ -", rule);
        }

        return new IpAuthDecision(rule, stripped, rule.Context, null);
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
}

/// <summary>Outcome of matching one call. <see cref="Rule"/> is null when rejected; it may be set with a reason when the rule matched but the number was refused.</summary>
public sealed record IpAuthDecision(IpRule? Rule, string? Number, string? Context, string? Reason)
{
    public bool Accepted => Reason is null;

    public static IpAuthDecision Rejected(string reason, IpRule? rule = null) => new(rule, null, null, reason);
}
