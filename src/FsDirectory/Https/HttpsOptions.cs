using System.ComponentModel.DataAnnotations;

namespace FsDirectory.Https;

/// <summary>
/// The certificate every <c>https://</c> address in <c>Urls</c> serves, from PEM files. A replaced file is picked up
/// within <see cref="ReloadInterval"/> for new connections; connections already open keep the one they started with.
/// </summary>
public sealed class HttpsOptions : IValidatableObject
{
    public const string Section = "Https";

    /// <summary>PEM certificate (the leaf; the clients' CA file holds the rest of the chain). Empty: no HTTPS.</summary>
    public string CertificatePath { get; set; } = string.Empty;

    /// <summary>PEM private key of the certificate (PKCS#8 or the algorithm's own format, unencrypted).</summary>
    public string KeyPath { get; set; } = string.Empty;

    /// <summary>How often the files are checked for a replacement.</summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>HSTS max-age sent on HTTPS answers, so that a browser that used the console over HTTPS never falls back to HTTP.</summary>
    public TimeSpan HstsMaxAge { get; set; } = TimeSpan.FromDays(180);

    public bool Enabled => CertificatePath.Length > 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (CertificatePath.Length > 0 != KeyPath.Length > 0)
        {
            yield return new ValidationResult("Https: set both CertificatePath and KeyPath, or neither.", [nameof(CertificatePath)]);
        }

        if (ReloadInterval < TimeSpan.FromMilliseconds(100) || ReloadInterval > TimeSpan.FromHours(1))
        {
            yield return new ValidationResult("Https:ReloadInterval must be between 100 ms and 1 hour.", [nameof(ReloadInterval)]);
        }
    }
}

/// <summary>
/// The TLS-terminating proxies whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed. Empty (the default):
/// the headers are ignored, so nobody can choose the address the sign-in throttle and the logs see.
/// </summary>
public sealed class ForwardedHeadersSettings : IValidatableObject
{
    public const string Section = "ForwardedHeaders";

    /// <summary>Proxy addresses, e.g. <c>10.0.0.5</c>.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Proxy networks, e.g. <c>10.0.0.0/24</c>.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var proxy in KnownProxies.Where(p => !System.Net.IPAddress.TryParse(p, out _)))
        {
            yield return new ValidationResult($"ForwardedHeaders:KnownProxies: '{proxy}' is not an IP address.", [nameof(KnownProxies)]);
        }

        foreach (var network in KnownNetworks.Where(n => !System.Net.IPNetwork.TryParse(n, out _)))
        {
            yield return new ValidationResult($"ForwardedHeaders:KnownNetworks: '{network}' is not a network (address/length).", [nameof(KnownNetworks)]);
        }
    }
}
