using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

// Posts real mod_xml_curl captures (device REGISTER, IP-authenticated dialplan, acl.conf) at a fixed
// rate, checks every answer is 200 and byte-identical to the first answer for its kind, and prints
// one line per 10 s plus a summary. Exit code 1 on any error or wrong answer.
var options = args.Chunk(2).ToDictionary(p => p[0].TrimStart('-'), p => p.Length > 1 ? p[1] : string.Empty, StringComparer.Ordinal);
var url = new Uri(options.GetValueOrDefault("url", "http://127.0.0.1:8080") + "/freeswitch");
var seconds = int.Parse(options.GetValueOrDefault("seconds", "60"), CultureInfo.InvariantCulture);
var rate = int.Parse(options.GetValueOrDefault("rate", "500"), CultureInfo.InvariantCulture);
var workers = int.Parse(options.GetValueOrDefault("workers", "32"), CultureInfo.InvariantCulture);
var fixtures = options.GetValueOrDefault("fixtures", "../shared/fixtures/freeswitch");

string Form(string name, params (string Key, string Value)[] changes)
{
    var pairs = File.ReadAllText(Path.Combine(fixtures, name + ".form")).TrimEnd('\n', '\r').Split('&')
        .Select(p => p.Split('=', 2)).Select(p => (Key: p[0], Value: p.Length > 1 ? p[1] : string.Empty)).ToList();
    foreach (var (key, value) in changes)
    {
        var i = pairs.FindIndex(p => p.Key == key);
        pairs[i] = (key, Uri.EscapeDataString(value));
    }

    return string.Join('&', pairs.Select(p => p.Key + "=" + p.Value));
}

string[] bodies =
[
    Form("directory-sip_auth-register"),
    Form("dialplan-acl-authed-tech-prefix", ("Hunt-Network-Addr", "192.0.2.10"), ("Caller-Network-Addr", "192.0.2.10"),
        ("Hunt-Destination-Number", "12066418000"), ("Caller-Destination-Number", "12066418000"), ("variable_sofia_profile_name", "default")),
    Form("configuration-acl.conf"),
];
string[] mustContain = ["a1-hash", "12066418000 XML default", "192.0.2.10/32"];

using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = workers, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
{
    Timeout = TimeSpan.FromSeconds(5),
};

async Task<(HttpStatusCode Status, string Body)> PostAsync(int kind)
{
    using var content = new StringContent(bodies[kind], Encoding.UTF8, "application/x-www-form-urlencoded");
    using var response = await client.PostAsync(url, content);
    return (response.StatusCode, await response.Content.ReadAsStringAsync());
}

var expected = new string[bodies.Length];
for (var k = 0; k < bodies.Length; k++)
{
    var (status, body) = await PostAsync(k);
    if (status != HttpStatusCode.OK || !body.Contains(mustContain[k], StringComparison.Ordinal))
    {
        Console.Error.WriteLine($"baseline {k}: HTTP {(int)status}, expected '{mustContain[k]}' in the answer");
        return 2;
    }

    expected[k] = body;
}

long ticket = -1, ok = 0, errors = 0, wrong = 0;
var latencies = new List<double>[workers];
var clock = Stopwatch.StartNew();
var total = (long)seconds * rate;
var firstErrors = new System.Collections.Concurrent.ConcurrentQueue<string>();

var tasks = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
{
    latencies[w] = [];
    while (true)
    {
        var i = Interlocked.Increment(ref ticket);
        if (i >= total)
        {
            return;
        }

        // Open loop: request i is due at i/rate seconds, whether or not earlier ones were slow.
        var due = TimeSpan.FromSeconds((double)i / rate);
        var wait = due - clock.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        var kind = (int)(i % bodies.Length);
        var started = clock.Elapsed;
        try
        {
            var (status, body) = await PostAsync(kind);
            latencies[w].Add((clock.Elapsed - started).TotalMilliseconds);
            if (status != HttpStatusCode.OK)
            {
                Interlocked.Increment(ref errors);
                if (firstErrors.Count < 10) firstErrors.Enqueue($"{clock.Elapsed.TotalSeconds:F1}s kind {kind}: HTTP {(int)status}");
            }
            else if (body != expected[kind])
            {
                Interlocked.Increment(ref wrong);
                if (firstErrors.Count < 10) firstErrors.Enqueue($"{clock.Elapsed.TotalSeconds:F1}s kind {kind}: different answer");
            }
            else
            {
                Interlocked.Increment(ref ok);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            Interlocked.Increment(ref errors);
            if (firstErrors.Count < 10) firstErrors.Enqueue($"{clock.Elapsed.TotalSeconds:F1}s kind {kind}: {ex.GetType().Name} {ex.Message}");
        }
    }
})).ToArray();

var reporter = Task.Run(async () =>
{
    while (!tasks.All(t => t.IsCompleted))
    {
        await Task.Delay(10_000);
        Console.WriteLine(FormattableString.Invariant($"t={clock.Elapsed.TotalSeconds:F0}s ok={Interlocked.Read(ref ok)} errors={Interlocked.Read(ref errors)} wrong={Interlocked.Read(ref wrong)}"));
    }
});
await Task.WhenAll(tasks);
var elapsed = clock.Elapsed.TotalSeconds;
var all = latencies.SelectMany(l => l).Order().ToArray();
double Percentile(double p) => all.Length == 0 ? 0 : all[Math.Min(all.Length - 1, (int)(p * all.Length))];
Console.WriteLine(FormattableString.Invariant(
    $"SUMMARY requests={ok + errors + wrong} ok={ok} errors={errors} wrong={wrong} seconds={elapsed:F1} rate={(ok + errors + wrong) / elapsed:F0}/s p50={Percentile(0.5):F2}ms p99={Percentile(0.99):F2}ms max={(all.Length == 0 ? 0 : all[^1]):F1}ms"));
foreach (var line in firstErrors)
{
    Console.WriteLine("  " + line);
}

return errors + wrong == 0 ? 0 : 1;
