using FsDirectory.IpAuth;
using Microsoft.Extensions.Options;

namespace FsDirectory.FreeSwitch;

/// <summary>
/// Who may fetch configuration from <c>/freeswitch</c>. Every answer can carry credentials
/// (a1-hash, gateway passwords), so a deployment reachable beyond loopback should set both.
/// </summary>
public sealed class FreeSwitchAccessOptions
{
    public const string Section = "FreeSwitch:Access";

    /// <summary>HTTP Basic user expected from mod_xml_curl's <c>gateway-credentials</c> (<c>user:password</c>); empty = no credentials required.</summary>
    public string Username { get; set; } = string.Empty;

    public string Password { get; set; } = string.Empty;

    /// <summary>Client networks (addresses or CIDRs) allowed to fetch; empty = any address.</summary>
    public List<string> AllowedNetworks { get; set; } = [];

    public bool RequiresCredentials => Username.Length > 0 || Password.Length > 0;

    /// <summary><c>Required</c>: a fetch must come over HTTPS with a client certificate issued by <see cref="TrustedCaFile"/>.</summary>
    public SwitchCertificates ClientCertificate { get; set; } = SwitchCertificates.Off;

    /// <summary>PEM bundle of the CAs that issue the switches' certificates (never the system store: any public CA could issue one).</summary>
    public string TrustedCaFile { get; set; } = string.Empty;

    /// <summary>When set, the certificate's subject (its full DN or its CN) must be one of these.</summary>
    public List<string> AllowedSubjects { get; set; } = [];

    /// <summary>When set, the certificate's SHA-256 thumbprint (hex) must be one of these.</summary>
    public List<string> AllowedThumbprints { get; set; } = [];
}

public enum SwitchCertificates
{
    Off,
    Required,
}

public sealed class FreeSwitchAccessOptionsValidator : IValidateOptions<FreeSwitchAccessOptions>
{
    public ValidateOptionsResult Validate(string? name, FreeSwitchAccessOptions options)
    {
        var failures = new List<string>();
        if (options.RequiresCredentials && (options.Username.Length == 0 || options.Password.Length == 0))
        {
            failures.Add($"{FreeSwitchAccessOptions.Section}: set both Username and Password, or neither.");
        }

        // mod_xml_curl sends "user:password" as one string; a colon in the user name cannot round-trip.
        if (options.Username.Contains(':', StringComparison.Ordinal))
        {
            failures.Add($"{FreeSwitchAccessOptions.Section}:Username must not contain ':'.");
        }

        foreach (var network in options.AllowedNetworks)
        {
            if (!IpNetwork.TryParse(network, out _, out var error))
            {
                failures.Add($"{FreeSwitchAccessOptions.Section}:AllowedNetworks: '{network}': {error}");
            }
        }

        if (options.ClientCertificate == SwitchCertificates.Required)
        {
            if (ClientCertificateTrust.LoadAuthorities(options.TrustedCaFile, out var error) is null)
            {
                failures.Add($"{FreeSwitchAccessOptions.Section}:TrustedCaFile: {error}");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
