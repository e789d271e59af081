using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FsDirectory.FreeSwitch;

/// <summary>
/// Whether a switch's client certificate is accepted: issued (directly or through intermediates it sends) by one of
/// the configured CAs only, valid now, usable for client authentication, and, when lists are set, of an allowed
/// subject or thumbprint. Revocation is not checked: a private switch PKI rarely publishes CRLs; pin thumbprints, or
/// re-issue from a new CA, to withdraw one.
/// </summary>
public sealed class ClientCertificateTrust
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    // mod_xml_curl opens a connection, and presents its certificate, for every fetch: building the chain each time
    // cost more than the answer. A verdict is kept per certificate (its SHA-256) for a few minutes, never past its expiry.
    private static readonly TimeSpan VerdictLifetime = TimeSpan.FromMinutes(5);
    private const int MaxVerdicts = 4096;

    private readonly ConcurrentDictionary<string, ((string Reason, string Detail)? Refusal, DateTime Until)> _verdicts = new(StringComparer.Ordinal);
    private readonly X509Certificate2Collection _authorities;
    private readonly HashSet<string> _subjects;
    private readonly HashSet<string> _thumbprints;

    private ClientCertificateTrust(X509Certificate2Collection authorities, IEnumerable<string> subjects, IEnumerable<string> thumbprints)
    {
        _authorities = authorities;
        _subjects = new HashSet<string>(subjects.Select(s => s.Trim()).Where(s => s.Length > 0), StringComparer.OrdinalIgnoreCase);
        _thumbprints = new HashSet<string>(thumbprints.Select(t => t.Replace(":", string.Empty, StringComparison.Ordinal).Trim()).Where(t => t.Length > 0), StringComparer.OrdinalIgnoreCase);
    }

    public static ClientCertificateTrust? For(FreeSwitchAccessOptions options) =>
        options.ClientCertificate == SwitchCertificates.Required && LoadAuthorities(options.TrustedCaFile, out _) is { } authorities
            ? new ClientCertificateTrust(authorities, options.AllowedSubjects, options.AllowedThumbprints)
            : null;

    /// <summary>The CA certificates of a PEM bundle, or null with the reason.</summary>
    public static X509Certificate2Collection? LoadAuthorities(string path, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(path))
        {
            error = "required when ClientCertificate is Required";
            return null;
        }

        try
        {
            var authorities = new X509Certificate2Collection();
            authorities.ImportFromPemFile(path);
            if (authorities.Count == 0)
            {
                error = $"'{path}' holds no PEM certificate";
                return null;
            }

            return authorities;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            error = $"'{path}' cannot be read: {ex.Message}";
            return null;
        }
    }

    /// <summary>Null when accepted; otherwise the reason, one of <c>missing</c>, <c>untrusted</c>, <c>expired</c>, <c>not_allowed</c>.</summary>
    public (string Reason, string Detail)? Refusal(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return ("missing", "no client certificate (a plain-HTTP fetch, or none configured in the binding)");
        }

        var now = DateTime.UtcNow;
        var key = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        if (_verdicts.TryGetValue(key, out var known) && now < known.Until)
        {
            return known.Refusal;
        }

        var refusal = Check(certificate);
        if (_verdicts.Count >= MaxVerdicts)
        {
            _verdicts.Clear();
        }

        var until = now + VerdictLifetime;
        _verdicts[key] = (refusal, certificate.NotAfter.ToUniversalTime() < until ? certificate.NotAfter.ToUniversalTime() : until);
        return refusal;
    }

    private (string Reason, string Detail)? Check(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        if (!chain.Build(certificate))
        {
            var flags = chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);
            return (flags & X509ChainStatusFlags.NotTimeValid) != 0
                ? ("expired", $"certificate '{certificate.Subject}' is not valid now ({certificate.NotBefore:u} to {certificate.NotAfter:u})")
                : ("untrusted", $"certificate '{certificate.Subject}' is not issued by a CA of TrustedCaFile for client authentication ({flags})");
        }

        if (_subjects.Count > 0 && !_subjects.Contains(certificate.Subject) && !_subjects.Contains(certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false)))
        {
            return ("not_allowed", $"certificate subject '{certificate.Subject}' is not in AllowedSubjects");
        }

        if (_thumbprints.Count > 0 && !_thumbprints.Contains(certificate.GetCertHashString(HashAlgorithmName.SHA256)))
        {
            return ("not_allowed", $"certificate '{certificate.Subject}' is not in AllowedThumbprints");
        }

        return null;
    }
}
