using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FsDirectory.IpAuth;

namespace FsDirectory.Benchmarks.EndToEnd;

/// <summary>One kind of FreeSWITCH fetch, as a pool of different real request bodies, and the ceiling that reads the same kind of body.</summary>
public sealed record Scenario(string Name, string Path, string[] Bodies, string ExpectedOutcome, string Ceiling);

public sealed record Measurement(
    Scenario Scenario, bool KeepAlive, double MaxPerSecond, double CpuMicrosPerRequest, double P50Ms, double P99Ms, double HalfRate, long Errors, int BodyBytes);

/// <summary>
/// `make bench`: loads the bench database, starts the real service (Release) with the ceiling
/// endpoint beside it, and drives both with real FreeSWITCH bodies over loopback.
/// </summary>
public sealed partial class EndToEndBenchmark
{
    private const int Connections = 8;
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxPhase = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan HalfPhase = TimeSpan.FromSeconds(4);

    private readonly string _connectionString;
    private readonly string _hostDll;
    private readonly string _output;
    private string? _side;
    private bool _keepData;
    private int _round;
    private Dictionary<string, string> _hostEnvironment = [];

    private readonly string? _baselineDll;

    private EndToEndBenchmark(string connectionString, string hostDll, string output, string? baselineDll)
    {
        _connectionString = connectionString;
        _hostDll = hostDll;
        _output = output;
        _baselineDll = baselineDll;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        string? Arg(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }

        var bench = new EndToEndBenchmark(
            Arg("--connection") ?? throw new InvalidOperationException("--connection is required"),
            Arg("--host") ?? throw new InvalidOperationException("--host path/to/FsDirectory.BenchHost.dll is required"),
            Arg("--out") ?? ".data/bench-results.md",
            // --baseline-host: another build of the service (e.g. main's), measured scenario by scenario
            // alternately with this one, in the same run, for a before/after comparison (with
            // --million-only: the edits at a million rules, that build first, then this one).
            Arg("--baseline-host"));
        // --million-only: just the 1M-rule edit and memory figures (skips the 100k throughput runs);
        // --side before|after: only one side of them.
        bench._side = Arg("--side");
        // --keep-data: the 1M rows loaded by an earlier run stay (saves minutes); --round N: then edit
        // rows no earlier round edited; --host-env NAME=VALUE[,NAME=VALUE]: settings for the service (GC experiments).
        bench._keepData = args.Contains("--keep-data");
        bench._round = int.Parse(Arg("--round") ?? "0", CultureInfo.InvariantCulture);
        bench._hostEnvironment = (Arg("--host-env") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(static e => e.Split('=', 2)).ToDictionary(static e => e[0], static e => e[1]);
        var millionOnly = args.Contains("--million-only");
        // --rounds N: every scenario measured N times in interleaved rounds, the median round reported, so
        // that scenarios compared with each other saw the same (shared, noisy) machine.
        var rounds = int.TryParse(Arg("--rounds"), System.Globalization.NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 1;
        await bench.RunAllAsync(millionOnly || args.Contains("--million"), millionOnly, Arg("--only"), rounds);
        return 0;
    }

    private async Task RunAllAsync(bool million, bool millionOnly, string? only, int rounds)
    {
        var report = new StringBuilder();
        if (_baselineDll is not null && !millionOnly)
        {
            await RunComparisonAsync(report, only);
        }
        else if (!millionOnly)
        {
            await RunThroughputAsync(report, only, rounds);
        }

        if (million)
        {
            await RunMillionAsync(report);
        }

        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_output))!);
        await File.WriteAllTextAsync(_output, report.ToString());
        Console.WriteLine($"written to {_output}");
    }

    private async Task RunThroughputAsync(StringBuilder report, string? only, int rounds)
    {
        var rules = BenchData.Rules(100_000, RuleFamily.Mixed);
        var data = BenchData.Rows(rules, devices: 100_000);
        var loaded = await BenchDatabase.LoadAsync(_connectionString, data);
        Console.WriteLine($"loaded 100,000 ip_map rows, 100,000 sip_devices, {BenchData.Accounts:N0} accounts in {loaded.TotalSeconds:F1} s");

        var scenarios = Scenarios(rules)
            .Where(s => only is null || s.Name.StartsWith("ceiling", StringComparison.Ordinal) || s.Name.Contains(only, StringComparison.Ordinal) || s.Name == "acl.conf")
            .ToList();
        using (var host = await BenchHost.StartAsync(_hostDll, _connectionString))
        {
            Console.WriteLine($"service ready in {host.StartupTime.TotalSeconds:F1} s (snapshot of 100k rules + 100k devices loaded), RSS {host.RssMb():F0} MB");
            var firstAcl = await TimeOneAsync(host.Endpoint, scenarios.Single(s => s.Name == "acl.conf"));
            Console.WriteLine($"acl.conf first fetch (prepared when the snapshot went live): {firstAcl.Ms:F1} ms, {firstAcl.Bytes:N0} bytes");

            // JIT and tiered compilation settle before anything is measured (the ceiling runs first).
            foreach (var scenario in scenarios)
            {
                await CheckAsync(host.Endpoint, scenario);
                var requests = scenario.Bodies.Select(b => RawHttp.PostRequest(scenario.Path, b, keepAlive: true)).ToArray();
                await ClosedLoopAsync(host.Endpoint, requests, keepAlive: true, TimeSpan.FromSeconds(2));
            }

            var results = new List<Measurement>();
            var everyRound = new List<Measurement>();
            foreach (var keepAlive in new[] { false, true })
            {
                var measured = new List<Measurement>();
                for (var round = 1; round <= rounds; round++)
                {
                    // Every other round runs the scenarios in reverse, so that no scenario always follows the same one.
                    foreach (var scenario in round % 2 == 1 ? scenarios : Enumerable.Reverse(scenarios))
                    {
                        var m = await MeasureAsync(host, scenario, keepAlive);
                        measured.Add(m);
                        everyRound.Add(m);
                        Console.WriteLine($"  {(keepAlive ? "keep-alive" : "new conn"),-10} {scenario.Name,-26} {m.MaxPerSecond,8:F0}/s  cpu {m.CpuMicrosPerRequest,6:F0} us/req  p50 {m.P50Ms:F2} ms  p99 {m.P99Ms:F2} ms @ {m.HalfRate:F0}/s  errors {m.Errors}"
                            + (rounds > 1 ? $"  (round {round})" : string.Empty));
                    }
                }

                results.AddRange(scenarios.Select(s => Median(measured.Where(m => m.Scenario == s).ToList())));
            }

            var rss100k = host.RssMb();
            var peak100k = host.PeakRssMb();
            var table = Table(results) + Pairs(everyRound);
            Console.WriteLine();
            Console.WriteLine(table);
            Console.WriteLine($"RSS with 100k rules + 100k devices after the run: {rss100k:F0} MB (peak {peak100k:F0} MB)");
            report.AppendLine(table)
                .AppendLine(CultureInfo.InvariantCulture, $"- Snapshot at start-up (100k rules + 100k devices, read + build): service ready {host.StartupTime.TotalSeconds:F1} s after launch.")
                .AppendLine(CultureInfo.InvariantCulture, $"- acl.conf first fetch after start (prepared when the snapshot went live): {firstAcl.Ms:F1} ms, {firstAcl.Bytes:N0} bytes.")
                .AppendLine(CultureInfo.InvariantCulture, $"- RSS with 100k rules + 100k devices after the run: {rss100k:F0} MB (peak {peak100k:F0} MB).");
        }
    }

    /// <summary>
    /// This build against a baseline build over the same data: both services run side by side (idle while the
    /// other is measured), and each scenario is measured on one then the other, three rounds, so drift in the
    /// shared machine's load falls on both alike. The table gives each one's median of the three.
    /// </summary>
    private async Task RunComparisonAsync(StringBuilder report, string? only)
    {
        var rules = BenchData.Rules(100_000, RuleFamily.Mixed);
        var loaded = await BenchDatabase.LoadAsync(_connectionString, BenchData.Rows(rules, devices: 100_000));
        Console.WriteLine($"loaded 100,000 ip_map rows and 100,000 sip_devices in {loaded.TotalSeconds:F1} s");
        var scenarios = Scenarios(rules)
            .Where(s => !s.Name.StartsWith("ceiling", StringComparison.Ordinal) && (only is null || s.Name.Contains(only, StringComparison.Ordinal)))
            .ToList();
        using var baseline = await BenchHost.StartAsync(_baselineDll!, _connectionString);
        using var candidate = await BenchHost.StartAsync(_hostDll, _connectionString);
        foreach (var host in new[] { baseline, candidate })
        {
            foreach (var scenario in scenarios)
            {
                await CheckAsync(host.Endpoint, scenario);
                await ClosedLoopAsync(host.Endpoint, [.. scenario.Bodies.Select(b => RawHttp.PostRequest(scenario.Path, b, keepAlive: true))], keepAlive: true, TimeSpan.FromSeconds(2));
            }
        }

        var table = new StringBuilder()
            .AppendLine("| connection | scenario | baseline req/s | this build req/s | ratio | baseline CPU µs/req | this build CPU µs/req | baseline p99 ms @ half | this build p99 ms @ half |")
            .AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var keepAlive in new[] { false, true })
        {
            foreach (var scenario in scenarios)
            {
                var runs = new List<(Measurement Baseline, Measurement Candidate)>();
                for (var round = 0; round < 3; round++)
                {
                    // Alternate which goes first, so neither always measures right after the other's load.
                    var first = round % 2 == 0 ? baseline : candidate;
                    var a = await MeasureAsync(first, scenario, keepAlive);
                    var b = await MeasureAsync(first == baseline ? candidate : baseline, scenario, keepAlive);
                    runs.Add(first == baseline ? (a, b) : (b, a));
                }

                double Median(Func<(Measurement Baseline, Measurement Candidate), double> value) => runs.Select(value).Order().ElementAt(runs.Count / 2);
                var (baseRate, rate) = (Median(r => r.Baseline.MaxPerSecond), Median(r => r.Candidate.MaxPerSecond));
                var line = string.Create(CultureInfo.InvariantCulture,
                    $"| {(keepAlive ? "keep-alive" : "new per request")} | {scenario.Name} | {baseRate:F0} | {rate:F0} | {rate / baseRate:F2} | {Median(r => r.Baseline.CpuMicrosPerRequest):F0} | {Median(r => r.Candidate.CpuMicrosPerRequest):F0} | {Median(r => r.Baseline.P99Ms):F2} | {Median(r => r.Candidate.P99Ms):F2} |");
                Console.WriteLine(line);
                table.AppendLine(line);
            }
        }

        report.AppendLine(CultureInfo.InvariantCulture, $"Baseline: {_baselineDll}; this build: {_hostDll}; median of 3 alternating rounds each.").AppendLine().Append(table);
    }

    private async Task RunMillionAsync(StringBuilder report)
    {
        var millionRules = BenchData.Rules(1_000_000, RuleFamily.Mixed);
        if (!_keepData)
        {
            var loaded = await BenchDatabase.LoadAsync(_connectionString, BenchData.Rows(millionRules, devices: 100_000));
            Console.WriteLine($"loaded 1,000,000 ip_map rows in {loaded.TotalSeconds:F1} s");
        }

        // The same edits with row changes applied (after) and with changed tables re-read whole
        // (before, ChangeFeed:ApplyRowChanges=false), one service after the other on the same data.
        await RunEditsAsync(report, millionRules, _side);
    }

    /// <summary>The round with the median throughput (its CPU and latency figures come with it).</summary>
    private static Measurement Median(List<Measurement> rounds) =>
        rounds.OrderBy(static m => m.MaxPerSecond).ElementAt(rounds.Count / 2);

    /// <summary>
    /// Each "X via proxy" scenario against its direct "X", per connection mode: the ratio within each
    /// round (the two ran seconds apart, on the same machine load), then the median of those ratios.
    /// </summary>
    /// <param name="everyRound">Every measurement, in the order taken (round after round).</param>
    private static string Pairs(List<Measurement> everyRound)
    {
        const string Suffix = " via proxy";
        var sb = new StringBuilder();
        foreach (var group in everyRound.Where(static m => m.Scenario.Name.EndsWith(Suffix, StringComparison.Ordinal)).GroupBy(static m => (m.KeepAlive, m.Scenario)))
        {
            var (keepAlive, proxied) = group.Key;
            var directName = proxied.Name[..^Suffix.Length];
            var directs = everyRound.Where(m => m.KeepAlive == keepAlive && m.Scenario.Name == directName).ToList();
            var pairs = group.Zip(directs).ToList();
            if (pairs.Count == 0)
            {
                continue;
            }

            static double MedianOf(IEnumerable<double> values)
            {
                var sorted = values.Order().ToList();
                return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
            }

            var throughput = pairs.Select(static p => p.First.MaxPerSecond / p.Second.MaxPerSecond).ToList();
            var cpu = pairs.Select(static p => p.First.CpuMicrosPerRequest / p.Second.CpuMicrosPerRequest).ToList();
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"- {(keepAlive ? "keep-alive" : "new per request")}: {proxied.Name} / {directName}, median of {pairs.Count} same-round ratio(s): "
                + $"max req/s {MedianOf(throughput):F2} (rounds: {string.Join(", ", throughput.Select(static r => r.ToString("F2", CultureInfo.InvariantCulture)))}), "
                + $"server CPU per request {MedianOf(cpu):F2} (rounds: {string.Join(", ", cpu.Select(static r => r.ToString("F2", CultureInfo.InvariantCulture)))}).");
        }

        return sb.Length == 0 ? string.Empty : Environment.NewLine + sb;
    }

    private static string Table(List<Measurement> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| connection | scenario | max req/s | × ceiling | server CPU µs/req | p50 ms @ half | p99 ms @ half | half load req/s | reply bytes | errors |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var m in results)
        {
            var ceiling = results.Single(r => r.KeepAlive == m.KeepAlive && r.Scenario.Name == m.Scenario.Ceiling).MaxPerSecond;
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {(m.KeepAlive ? "keep-alive" : "new per request")} | {m.Scenario.Name} | {m.MaxPerSecond:F0} | {m.MaxPerSecond / ceiling:F2} | {m.CpuMicrosPerRequest:F0} | {m.P50Ms:F2} | {m.P99Ms:F2} | {m.HalfRate:F0} | {m.BodyBytes:N0} | {m.Errors} |");
        }

        return sb.ToString();
    }

    private const string DialplanCeiling = "ceiling (dialplan form)";
    private const string DirectoryCeiling = "ceiling (directory form)";
    private const string ConfigurationCeiling = "ceiling (configuration form)";

    private static readonly string DialplanForm = Fixtures.FreeSwitchForm("dialplan-acl-authed-tech-prefix");
    private static readonly string DirectoryForm = Fixtures.FreeSwitchForm("directory-sip_auth-register");

    /// <summary>The dialplan capture's fields in its order, with the caller's address and number replaced.</summary>
    public static string Dialplan(IpAddressKey source, string number) => string.Join('&', DialplanForm.Split('&').Select(pair =>
    {
        var eq = pair.IndexOf('=', StringComparison.Ordinal);
        var key = eq < 0 ? pair : pair[..eq];
        return key switch
        {
            "Hunt-Network-Addr" or "Caller-Network-Addr" => key + "=" + Uri.EscapeDataString(source.ToString()),
            "Caller-Destination-Number" or "Hunt-Destination-Number" => key + "=" + Uri.EscapeDataString(number),
            _ => pair,
        };
    }));

    /// <summary>The REGISTER capture for another user.</summary>
    public static string Directory(string user) => DirectoryForm.Replace("sip_auth_username=1001", "sip_auth_username=" + user, StringComparison.Ordinal)
        .Replace("&user=1001", "&user=" + user, StringComparison.Ordinal);

    private static List<Scenario> Scenarios(IReadOnlyList<RuleSpec> rules)
    {
        var random = new Random(2026);
        var dialplanForm = Fixtures.FreeSwitchForm("dialplan-acl-authed-tech-prefix");
        var proxiedForm = Fixtures.FreeSwitchForm("dialplan-proxied-x-auth-ip");
        // The capture's fields in its order, with the network address, the number and X-AUTH-IP (if it has one) replaced.
        static string Fill(string form, string network, string number, string? xAuthIp = null) => string.Join('&', form.Split('&').Select(pair =>
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = eq < 0 ? pair : pair[..eq];
            return key switch
            {
                "Hunt-Network-Addr" or "Caller-Network-Addr" => key + "=" + Uri.EscapeDataString(network),
                "Caller-Destination-Number" or "Hunt-Destination-Number" => key + "=" + Uri.EscapeDataString(number),
                "variable_sip_h_X-AUTH-IP" when xAuthIp is not null => key + "=" + Uri.EscapeDataString(xAuthIp),
                _ => pair,
            };
        }));
        string Dialplan(IpAddressKey source, string number) => Fill(dialplanForm, source.ToString(), number);
        // The real proxied capture (6.1 KB, the direct one 6.1 KB): relayed by the bench's trusted proxy for a customer.
        string Proxied(IpAddressKey client, string number) => Fill(proxiedForm, BenchData.Proxy, number, client.ToString());

        string[] Pool(Func<string> make) => Enumerable.Range(0, 2048).Select(_ => make()).ToArray();

        var v4Plain = rules.Where(r => r.Network.IsV4 && r.Prefix.Length == 0).ToArray();
        var v4Prefixed = rules.Where(r => r.Network.IsV4 && r.Prefix.Length > 0).ToArray();
        var v6Prefixed = rules.Where(r => !r.Network.IsV4 && r.Prefix.Length > 0).ToArray();
        RuleSpec Pick(RuleSpec[] from) => from[random.Next(from.Length)];

        return
        [
            // The ceiling reads the same body as the scenarios it is compared with: form size is a large part of the cost.
            new(DialplanCeiling, "/ceiling", Pool(() => { var r = Pick(v4Prefixed); return Dialplan(BenchData.SourceIn(r.Network, random), r.Prefix + BenchData.Tail); }), "ceiling", DialplanCeiling),
            new("dialplan hit IPv4", "/freeswitch", Pool(() => { var r = Pick(v4Plain); return Dialplan(BenchData.SourceIn(r.Network, random), BenchData.Tail); }), "transfer", DialplanCeiling),
            new("dialplan tech-prefix IPv4", "/freeswitch", Pool(() => { var r = Pick(v4Prefixed); return Dialplan(BenchData.SourceIn(r.Network, random), r.Prefix + BenchData.Tail); }), "transfer", DialplanCeiling),
            // The same calls relayed by a trusted proxy: the answer must come through the X-AUTH-IP path.
            new("dialplan tech-prefix IPv4 via proxy", "/freeswitch", Pool(() => { var r = Pick(v4Prefixed); return Proxied(BenchData.SourceIn(r.Network, random), r.Prefix + BenchData.Tail); }), "fsdir_source_ip=", DialplanCeiling),
            new("dialplan miss IPv4", "/freeswitch", Pool(() => Dialplan(BenchData.SourceIn(BenchData.MissV4, random), BenchData.Tail)), "403 Forbidden", DialplanCeiling),
            new("dialplan tech-prefix IPv6", "/freeswitch", Pool(() => { var r = Pick(v6Prefixed); return Dialplan(BenchData.SourceIn(r.Network, random), r.Prefix + BenchData.Tail); }), "transfer", DialplanCeiling),
            new("dialplan miss IPv6", "/freeswitch", Pool(() => Dialplan(BenchData.SourceIn(BenchData.MissV6, random), BenchData.Tail)), "403 Forbidden", DialplanCeiling),
            new(DirectoryCeiling, "/ceiling", Pool(() => Directory(BenchData.DeviceUser(random.Next(100_000)))), "ceiling", DirectoryCeiling),
            new("directory sip_auth hit", "/freeswitch", Pool(() => Directory(BenchData.DeviceUser(random.Next(100_000)))), "a1-hash", DirectoryCeiling),
            new("directory sip_auth miss", "/freeswitch", Pool(() => Directory("9" + random.Next(1_000_000, 9_999_999).ToString(CultureInfo.InvariantCulture))), "not found", DirectoryCeiling),
            new(ConfigurationCeiling, "/ceiling", [Fixtures.FreeSwitchForm("configuration-sofia.conf")], "ceiling", ConfigurationCeiling),
            new("acl.conf", "/freeswitch", [Fixtures.FreeSwitchForm("configuration-acl.conf")], "network-lists", ConfigurationCeiling),
            new("sofia.conf", "/freeswitch", [Fixtures.FreeSwitchForm("configuration-sofia.conf")], "profiles", ConfigurationCeiling),
        ];
    }

    /// <summary>One request, checked for the expected content (the benchmark must measure real answers, not errors).</summary>
    private static async Task<(double Ms, int Bytes)> TimeOneAsync(IPEndPoint endpoint, Scenario scenario)
    {
        using var client = new HttpClient();
        var watch = Stopwatch.StartNew();
        using var response = await client.PostAsync(new Uri($"http://{endpoint}{scenario.Path}"),
            new StringContent(scenario.Bodies[0], Encoding.UTF8, "application/x-www-form-urlencoded"));
        var body = await response.Content.ReadAsStringAsync();
        return (watch.Elapsed.TotalMilliseconds, Encoding.UTF8.GetByteCount(body));
    }

    private static async Task CheckAsync(IPEndPoint endpoint, Scenario scenario)
    {
        using var client = new HttpClient();
        foreach (var body in scenario.Bodies.Take(20))
        {
            using var response = await client.PostAsync(new Uri($"http://{endpoint}{scenario.Path}"),
                new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded"));
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.OK || (scenario.ExpectedOutcome != "ceiling" && !text.Contains(scenario.ExpectedOutcome, StringComparison.Ordinal)))
            {
                throw new InvalidOperationException($"{scenario.Name}: unexpected answer {(int)response.StatusCode}: {text[..Math.Min(text.Length, 600)]}");
            }
        }
    }

    /// <param name="halfRate">The rate for the latency phase; null: half the maximum just measured.</param>
    private static async Task<Measurement> MeasureAsync(BenchHost host, Scenario scenario, bool keepAlive, double? halfRate = null)
    {
        await CheckAsync(host.Endpoint, scenario);
        var requests = scenario.Bodies.Select(b => RawHttp.PostRequest(scenario.Path, b, keepAlive)).ToArray();
        await ClosedLoopAsync(host.Endpoint, requests, keepAlive, Warmup);

        var cpuBefore = host.CpuTime();
        var max = await ClosedLoopAsync(host.Endpoint, requests, keepAlive, MaxPhase);
        var cpu = host.CpuTime() - cpuBefore;
        var maxRate = max.Count / MaxPhase.TotalSeconds;

        var rate = halfRate ?? maxRate / 2;
        var half = await OpenLoopAsync(host.Endpoint, requests, keepAlive, rate, HalfPhase);
        half.Latencies.Sort();
        return new Measurement(scenario, keepAlive, maxRate, cpu.TotalMicroseconds / Math.Max(1, max.Count),
            Percentile(half.Latencies, 0.50), Percentile(half.Latencies, 0.99), rate, max.Errors + half.Errors, max.BodyBytes);
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private sealed record Phase(long Count, long Errors, List<double> Latencies, int BodyBytes);

    /// <summary>Maximum throughput: a fixed number of connections, each sending as soon as the last answer arrived.</summary>
    private static async Task<Phase> ClosedLoopAsync(IPEndPoint endpoint, byte[][] requests, bool keepAlive, TimeSpan duration)
    {
        using var cts = new CancellationTokenSource(duration);
        long count = 0, errors = 0;
        var bodyBytes = 0;
        var workers = Enumerable.Range(0, Connections).Select(w => Task.Run(async () =>
        {
            using var client = new RawHttp(endpoint, keepAlive);
            var i = w * 997;
            while (!cts.IsCancellationRequested)
            {
                try
                {
                    var (status, length) = await client.SendAsync(requests[i++ % requests.Length], CancellationToken.None);
                    if (status == 200)
                    {
                        Interlocked.Increment(ref count);
                        bodyBytes = length;
                    }
                    else
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
                catch (Exception ex) when (ex is IOException or SocketException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        return new Phase(count, errors, [], bodyBytes);
    }

    /// <summary>
    /// Latency at a fixed arrival rate (half the maximum): request k is due at k/rate; latency counts
    /// from the due time, so a late start is charged to the service rather than hidden.
    /// </summary>
    private static async Task<Phase> OpenLoopAsync(IPEndPoint endpoint, byte[][] requests, bool keepAlive, double rate, TimeSpan duration)
    {
        var total = (long)(rate * duration.TotalSeconds);
        long next = -1, errors = 0;
        var latencies = new List<double>[Connections * 2];
        var start = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, latencies.Length).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = [];
            using var client = new RawHttp(endpoint, keepAlive);
            while (true)
            {
                var k = Interlocked.Increment(ref next);
                if (k >= total)
                {
                    return;
                }

                var due = start + (long)(k / rate * Stopwatch.Frequency);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.FromMilliseconds(1))
                {
                    await Task.Delay(wait);
                }

                var sent = Stopwatch.GetTimestamp();
                try
                {
                    var (status, _) = await client.SendAsync(requests[k % requests.Length], CancellationToken.None);
                    if (status != 200)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
                catch (Exception ex) when (ex is IOException or SocketException)
                {
                    Interlocked.Increment(ref errors);
                    continue;
                }

                var from = Math.Min(due, sent);
                mine.Add(Stopwatch.GetElapsedTime(from).TotalMilliseconds);
            }
        })).ToArray();
        await Task.WhenAll(workers);
        return new Phase(total, errors, latencies.SelectMany(l => l).ToList(), 0);
    }
}
