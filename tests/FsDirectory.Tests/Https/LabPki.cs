using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Https;

/// <summary>
/// Certificates made for the test by `scripts/certs.sh` (what `make certs` runs): the lab CA, the server's, and
/// switch1/switch2's; a second CA that nobody trusts with a switch of its own; and an expired switch certificate
/// signed by the trusted CA (openssl 3.0's `x509 -req` cannot back-date one, so it is made here).
/// </summary>
public sealed class LabPki : IDisposable
{
    private LabPki(string directory) => Directory = directory;

    public string Directory { get; }
    public string Ca => File("ca.pem");
    public string ServerCertificate => File("server.pem");
    public string ServerKey => File("server.key");
    public string UntrustedDirectory => Path.Combine(Directory, "untrusted");

    public static async Task<LabPki> CreateAsync()
    {
        var pki = new LabPki(System.IO.Directory.CreateTempSubdirectory("fsdir-pki-").FullName);
        await Scripts.RunAsync("certs.sh", pki.Directory, "localhost", "127.0.0.1", "switch1", "switch2");
        await Scripts.RunAsync("certs.sh", pki.UntrustedDirectory, "localhost", "127.0.0.1", "rogue");
        var expiredAt = pki.IssueExpired("expired");
        // The CA was made a moment ago and a certificate cannot start before its issuer: it ends a second after
        // the CA starts, and the test begins once that second is over.
        var wait = expiredAt.AddSeconds(2) - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        return pki;
    }

    public string File(string name) => Path.Combine(Directory, name);

    /// <summary>Accepts the server's certificate only when it chains to the lab CA (what curl --cacert does).</summary>
    public bool TrustsServer(HttpRequestMessage request, X509Certificate2? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.ImportFromPemFile(Ca);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return custom.Build(certificate);
    }

    /// <summary>Re-issues the server certificate from the same CA (new key and serial), as an operator's rotation would.</summary>
    public async Task<string> RotateServerAsync()
    {
        var rotated = System.IO.Directory.CreateDirectory(Path.Combine(Directory, $"rotated-{Guid.NewGuid():N}")).FullName;
        foreach (var file in new[] { "ca.pem", "ca.key", "ca.srl" })
        {
            System.IO.File.Copy(File(file), Path.Combine(rotated, file));
        }

        await Scripts.RunAsync("certs.sh", rotated, "localhost", "127.0.0.1", "unused");
        var fingerprint = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(rotated, "server.pem")).GetCertHashString(HashAlgorithmName.SHA256);
        // Key first, then certificate, each by rename: the service never reads a half-written file.
        System.IO.File.Copy(Path.Combine(rotated, "server.key"), ServerKey + ".new", overwrite: true);
        System.IO.File.Copy(Path.Combine(rotated, "server.pem"), ServerCertificate + ".new", overwrite: true);
        System.IO.File.Move(ServerKey + ".new", ServerKey, overwrite: true);
        System.IO.File.Move(ServerCertificate + ".new", ServerCertificate, overwrite: true);
        return fingerprint;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    private DateTimeOffset IssueExpired(string name)
    {
        using var ca = X509Certificate2.CreateFromPemFile(Ca, File("ca.key"));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var start = new DateTimeOffset(ca.NotBefore.ToUniversalTime());
        using var expired = request.Create(ca, start, start.AddSeconds(1), [7, 7, 7, 7]);
        System.IO.File.WriteAllText(File(name + ".pem"), expired.ExportCertificatePem());
        System.IO.File.WriteAllText(File(name + ".key"), key.ExportPkcs8PrivateKeyPem());
        return start.AddSeconds(1);
    }
}
