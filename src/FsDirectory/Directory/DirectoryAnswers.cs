using System.Security.Cryptography;
using System.Text;
using FsDirectory.FreeSwitch;
using FsDirectory.Limits;
using FsDirectory.Snapshots;
using FsDirectory.Xml;
using Microsoft.Extensions.Options;

namespace FsDirectory.Directory;

/// <summary>Device authentication: the directory user for a REGISTER or INVITE digest challenge.</summary>
public sealed partial class DirectoryAnswers(
    IOptionsMonitor<FreeSwitchOptions> options, IOptionsMonitor<LimitsOptions> limits, TimeProvider time, ILogger<DirectoryAnswers> logger)
{
    private readonly LogThrottle _unknownDeviceLines = new(options, time);

    public XmlAnswer Answer(FreeSwitchRequest request, Snapshot snapshot)
    {
        // Gateways, network lists, voicemail counts and reverse auth are not served (yet): not found
        // lets FreeSWITCH use its own configuration for them.
        if (request.Purpose.Length > 0 || request.Action is not ("sip_auth" or "user_call"))
        {
            return XmlAnswer.NotFound;
        }

        var user = request.User;
        var domain = request.Domain;
        if (user.Length == 0 || domain.Length == 0 || !snapshot.Devices.TryGetValue(user, out var device))
        {
            if (_unknownDeviceLines.TryWrite(out var suppressed))
            {
                LogUnknownDevice(LogText.Bounded(request.Action), LogText.Bounded(user), LogText.Bounded(request.SourceIp), suppressed);
            }

            return XmlAnswer.NotFound;
        }

        var xml = new FsXmlWriter(2048).StartDocument("directory");
        xml.Start("domain").Attr("name", domain).Open();
        xml.Start("user").Attr("id", device.Username).Open();
        if (device.CredentialsDisabled)
        {
            // IP-only account. Answering "not found" would let a static user of the same name
            // authenticate, so answer a user that can never authenticate by digest.
            WriteForbidden(xml);
            LogCredentialsDisabled(device.Username, device.AccountId, LogText.Bounded(request.SourceIp));
        }
        else
        {
            WriteUser(xml, device, domain, options.CurrentValue, snapshot, limits.CurrentValue);
            // Counted in /metrics; a line per registration is for debugging only (see DialplanAnswers).
            if (logger.IsEnabled(LogLevel.Debug))
            {
                LogDeviceAnswered(LogText.Bounded(request.Action), device.Username, device.AccountId, LogText.Bounded(request.SourceIp));
            }
        }

        xml.End("user").End("domain").EndDocument();
        return new XmlAnswer(xml.WrittenMemory, device.CredentialsDisabled ? "rejected" : "answered");
    }

    private static void WriteUser(FsXmlWriter xml, Device device, string domain, FreeSwitchOptions options, Snapshot snapshot, LimitsOptions limits)
    {
        xml.Start("params").Open();
        if (device.Password is null)
        {
            xml.Start("param").Attr("name", "a1-hash").Attr("value", device.StoredA1Hash).Close();
        }
        else if (options.PasswordMode == PasswordMode.Plaintext)
        {
            xml.Start("param").Attr("name", "password").Attr("value", device.Password).Close();
        }
        else
        {
            xml.Start("param").Attr("name", "a1-hash").Attr("value", A1Hash(device.Username, domain, device.Password)).Close();
        }

        foreach (var (name, value) in device.Params)
        {
            xml.Start("param").Attr("name", name).Attr("value", value).Close();
        }

        xml.End("params");
        xml.Start("variables").Open();
        foreach (var (name, value) in device.Variables)
        {
            xml.Start("variable").Attr("name", name).Attr("value", value).Close();
        }

        xml.Start("variable").Attr("name", "accountcode").Attr("value", device.AccountCode).Close();
        xml.Start("variable").Attr("name", "user_context").Attr("value", device.UserContext ?? options.DefaultUserContext).Close();
        xml.Start("variable").Attr("name", "fsdir_auth").Attr("value", "device").Close();
        xml.Start("variable").Attr("name", "fsdir_account_id").Attr("value", device.AccountId).Close();
        xml.Start("variable").Attr("name", "fsdir_reseller_id").Attr("value", device.ResellerId).Close();
        if (limits.Enabled)
        {
            // Applied by the operator's static dialplan (freeswitch-conf/dialplan/fsdir_limits.xml) as the dialplan answer applies them.
            CallLimits.Of(snapshot, device.AccountId).WriteVariables(xml, limits);
        }

        xml.End("variables");
    }

    private static void WriteForbidden(FsXmlWriter xml)
    {
        xml.Start("params").Open();
        xml.Start("param").Attr("name", "sip-forbid-register").Attr("value", "true").Close();
        // Belt and braces: a hash of 32 random bytes matches no password anyone can send.
        xml.Start("param").Attr("name", "a1-hash").Attr("value", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))).Close();
        xml.End("params");
    }

    /// <summary>md5(user:realm:password) in lowercase hex, as FreeSWITCH's digest check expects.</summary>
    public static string A1Hash(string user, string realm, string password)
    {
        var input = Encoding.UTF8.GetBytes($"{user}:{realm}:{password}");
#pragma warning disable CA5351 // SIP digest (RFC 2617) is defined over MD5; this is not our choice of hash.
        return Convert.ToHexStringLower(MD5.HashData(input));
#pragma warning restore CA5351
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Directory {Action}: device {User} of account {AccountId} answered for {SourceIp}")]
    private partial void LogDeviceAnswered(string action, string user, int accountId, string sourceIp);

    [LoggerMessage(Level = LogLevel.Information, Message = "Directory {Action}: no usable device {User} (from {SourceIp}): not found ({Suppressed} similar lines left out before this one)")]
    private partial void LogUnknownDevice(string action, string user, string sourceIp, long suppressed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Directory: device {User} belongs to IP-only account {AccountId}; digest refused for {SourceIp}")]
    private partial void LogCredentialsDisabled(string user, int accountId, string sourceIp);
}
