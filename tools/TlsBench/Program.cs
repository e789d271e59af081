using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;

// Closed-loop load: WORKERS requests in flight, each POSTing a real capture, for SECONDS; prints "requests/s
// server-CPU-µs/request errors". --new: a new connection (and TLS handshake, never resumed) for every request, as
// mod_xml_curl does; otherwise one kept-alive connection per worker. Over https the switch certificate is presented.
var options = args.Chunk(2).ToDictionary(p => p[0].TrimStart('-'), p => p.Length > 1 ? p[1] : string.Empty, StringComparer.Ordinal);
var url = new Uri(options["url"] + "/freeswitch");
var seconds = double.Parse(options.GetValueOrDefault("seconds", "5"), CultureInfo.InvariantCulture);
var workers = int.Parse(options.GetValueOrDefault("workers", "8"), CultureInfo.InvariantCulture);
var fresh = options.GetValueOrDefault("new", "false") == "true";
var body = File.ReadAllText(options["form"]).TrimEnd('\n', '\r');
var servicePid = int.Parse(options["pid"], CultureInfo.InvariantCulture);
var ca = new X509Certificate2Collection();
// Over plain HTTP (scripts/limits-bench.sh) no CA or switch certificate is needed.
if (options.TryGetValue("ca", out var caFile))
{
    ca.ImportFromPemFile(caFile);
}

using var clientCertificate = options.TryGetValue("cert", out var certFile) ? X509Certificate2.CreateFromPemFile(certFile, options["key"]) : null;

SocketsHttpHandler Handler() => new()
{
    PooledConnectionLifetime = fresh ? TimeSpan.Zero : TimeSpan.FromMinutes(5),
    SslOptions = new SslClientAuthenticationOptions
    {
        ClientCertificates = clientCertificate is null ? null : [clientCertificate],
        RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return certificate is X509Certificate2 server && chain.Build(server);
        },
    },
};

long requests = 0, errors = 0;
var cpuBefore = ServerCpu();
var clock = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
{
    using var shared = new HttpClient(Handler());
    while (clock.Elapsed.TotalSeconds < seconds)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded");
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        request.Headers.UserAgent.ParseAdd("freeswitch-xml/1.0");
        if (fresh)
        {
            request.Headers.ConnectionClose = true;
        }

        try
        {
            using var response = await shared.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
            if (response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref requests);
            }
            else
            {
                Interlocked.Increment(ref errors);
            }
        }
        catch (HttpRequestException)
        {
            Interlocked.Increment(ref errors);
        }
    }
}));

var elapsed = clock.Elapsed.TotalSeconds;
var cpu = ServerCpu() - cpuBefore;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{requests / elapsed:F0} {cpu.TotalMicroseconds / Math.Max(1, requests):F0} {errors}"));
return errors == 0 ? 0 : 1;

TimeSpan ServerCpu()
{
    var fields = File.ReadAllText($"/proc/{servicePid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name; in clock ticks (CLK_TCK = 100 on Linux).
    var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    return TimeSpan.FromSeconds(ticks / 100.0);
}
