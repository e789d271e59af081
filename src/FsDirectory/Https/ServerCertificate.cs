using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;

namespace FsDirectory.Https;

/// <summary>
/// The certificate Kestrel presents, re-read when its files change. A handshake picks the current one; a connection
/// already open keeps its own, so a rotation drops no request. A replacement that cannot be read (half-written,
/// key not matching) is logged and the previous certificate stays in use.
/// </summary>
public sealed partial class ServerCertificate : IHostedService, IDisposable
{
    private readonly HttpsOptions _options;
    private readonly ILogger<ServerCertificate> _logger;
    private readonly TimeProvider _time;
    private Loaded? _current;
    private (DateTime Certificate, DateTime Key, long CertificateLength, long KeyLength) _stamp;
    private ITimer? _timer;

    public ServerCertificate(IOptions<HttpsOptions> options, TimeProvider time, ILogger<ServerCertificate> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        if (_options.Enabled)
        {
            // At composition time: a missing or unreadable certificate stops the service before it listens.
            _stamp = Stamp();
            _current = Load();
        }
    }

    public X509Certificate2? Current => Volatile.Read(ref _current)?.Certificate;

    /// <summary>
    /// The certificate with its chain worked out once. Handing SslStream a bare certificate per handshake (what a
    /// certificate selector does) makes it build the chain on every connection: 3.8 ms of server CPU per new HTTPS
    /// fetch against 1.0 ms without (BENCHMARKS.md), and mod_xml_curl opens a connection for every fetch.
    /// </summary>
    public SslStreamCertificateContext? Context => Volatile.Read(ref _current)?.Context;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Enabled)
        {
            _timer = _time.CreateTimer(_ => Refresh(), null, _options.ReloadInterval, _options.ReloadInterval);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _timer?.Dispose();

    /// <summary>Loads the files again when their time or size changed.</summary>
    public void Refresh()
    {
        (DateTime, DateTime, long, long) stamp;
        try
        {
            stamp = Stamp();
        }
        catch (IOException ex)
        {
            LogReloadFailed(ex.Message);
            return;
        }

        if (stamp == _stamp)
        {
            return;
        }

        try
        {
            var next = Load();
            _stamp = stamp;
            Volatile.Write(ref _current, next);
            LogReloaded(next.Certificate.Subject, next.Certificate.NotAfter.ToUniversalTime());
        }
        catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
        {
            LogReloadFailed(ex.Message);
        }
    }

    private Loaded Load()
    {
        using var pem = X509Certificate2.CreateFromPemFile(_options.CertificatePath, _options.KeyPath);
        // Re-imported so the key is usable by SslStream on every platform, not only as an ephemeral handle.
        var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        // offline: a private CA publishes no AIA location, and a handshake must never wait on the network.
        return new Loaded(certificate, SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true));
    }

    private sealed record Loaded(X509Certificate2 Certificate, SslStreamCertificateContext Context);

    private (DateTime, DateTime, long, long) Stamp()
    {
        var certificate = new FileInfo(_options.CertificatePath);
        var key = new FileInfo(_options.KeyPath);
        if (!certificate.Exists || !key.Exists)
        {
            throw new FileNotFoundException($"{(certificate.Exists ? key.FullName : certificate.FullName)} does not exist");
        }

        return (certificate.LastWriteTimeUtc, key.LastWriteTimeUtc, certificate.Length, key.Length);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "HTTPS certificate loaded: {Subject}, valid until {NotAfter:u}")]
    private partial void LogReloaded(string subject, DateTime notAfter);

    [LoggerMessage(Level = LogLevel.Error, Message = "HTTPS certificate not reloaded ({Reason}); the previous one is still served")]
    private partial void LogReloadFailed(string reason);
}
