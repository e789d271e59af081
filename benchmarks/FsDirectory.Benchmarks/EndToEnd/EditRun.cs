using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using FsDirectory.IpAuth;
using MySqlConnector;

namespace FsDirectory.Benchmarks.EndToEnd;

/// <summary>
/// Issue 15 at a million rules: how long an edited row takes to reach the answers, the memory during
/// sustained editing and a bulk update, and lookups during a burst of edits. Measured for the service
/// applying row changes (after) and, on the same data in the same run, for the table-rebuild path
/// (before: ChangeFeed:ApplyRowChanges=false). Each side edits its own rows, accounts and devices.
/// </summary>
public sealed partial class EndToEndBenchmark
{
    private const int EditsPerKind = 100;
    private const int BaselineEditsPerKind = 10;

    private sealed record EditTarget(string Kind, string Sql, object Parameters, string CheckBody);

    /// <summary>
    /// Fresh rows to edit, split between the two sides so that neither edits a row the other already
    /// changed. Accounts 1-10,000 are the ones disabled; edited rules and devices belong to the others,
    /// so that no edit is hidden by an account disabled before it.
    /// </summary>
    private sealed class Targets(IReadOnlyList<RuleSpec> rules, int side, int round)
    {
        private const int EditedAccounts = BenchData.Accounts / 2;

        // A run edits fewer than 1,000 of each; round N starts past the rows rounds before it edited.
        private const int PerRound = 1_000;

        // Scattered IPv4 hosts without a tech prefix: the only rule on their network.
        private readonly Queue<RuleSpec> _rules = new(rules.Where(r => IsLoneHost(r) && r.AccountId > EditedAccounts && r.Id % 2 == side).Skip(round * PerRound).Take(PerRound));
        private readonly Queue<int> _devices = new(Enumerable.Range(0, 100_000).Where(d => (d % BenchData.Accounts) + 1 > EditedAccounts && d % 2 == side).Skip(round * PerRound).Take(PerRound));
        private readonly Queue<int> _accounts = new(Enumerable.Range(1, EditedAccounts).Where(a => a % 2 == side).Skip(round * PerRound).Take(PerRound));

        private static bool IsLoneHost(RuleSpec rule) => rule.Network.IsV4 && rule.Prefix.Length == 0 && ((rule.Id - 1) % 10) < 6;

        public EditTarget Next(string kind, int serial) => kind switch
        {
            "ip_map" => Rule(_rules.Dequeue()),
            "sip_devices" => Device(_devices.Dequeue(), serial),
            _ => Account(_accounts.Dequeue()),
        };

        private static EditTarget Rule(RuleSpec rule) =>
            new("ip_map", "UPDATE ip_map SET status = 1 WHERE id = @Id", new { rule.Id }, Dialplan(new IpAddressKey(rule.Network.Bits, true), BenchData.Tail));

        private static EditTarget Device(int device, int serial) =>
            new("sip_devices", "UPDATE sip_devices SET dir_params = JSON_OBJECT('password', @Password) WHERE id = @Id",
                new { Id = device + 1, Password = $"edited-{serial}" }, Directory(BenchData.DeviceUser(device)));

        // The account's first device tells: its directory answer becomes not found.
        private static EditTarget Account(int account) =>
            new("accounts", "UPDATE accounts SET status = 1 WHERE id = @Id", new { Id = account }, Directory(BenchData.DeviceUser(account - 1)));

        /// <summary>Ids of 10,000 consecutive rules on this side of the table, and a scattered host among the last of them.</summary>
        public (int First, int Last, string CheckBody) Bulk()
        {
            // Ids 610,001-620,000, 630,001-640,000 and so on belong to accounts 10,001-20,000, which are never disabled.
            var first = 10_001 + (20_000 * (30 + (2 * round) + side));
            var last = first + 9_999;
            var probe = rules.Last(r => r.Id >= first && r.Id <= last && IsLoneHost(r) && r.AccountId > EditedAccounts);
            return (first, last, Dialplan(new IpAddressKey(probe.Network.Bits, true), BenchData.Tail));
        }
    }

    /// <param name="only">"before" or "after" to run one side (the rate for lookups is then that side's own).</param>
    private async Task RunEditsAsync(StringBuilder report, IReadOnlyList<RuleSpec> rules, string? only)
    {
        var sides = new List<(string Name, Dictionary<string, string> Results)>();
        double? lookupRate = null;
        // With --baseline-host, "before" is that build applying row changes too (the same edits, a
        // change to how they are applied); without it, this build re-reading changed tables whole.
        (string Name, string Dll, bool ApplyRowChanges, int Side)[] runs = _baselineDll is { } baseline
            ? [("before: baseline build", baseline, true, 0), ("after: this build", _hostDll, true, 1)]
            : [("before: changed tables re-read", _hostDll, false, 0), ("after: row changes applied", _hostDll, true, 1)];
        foreach (var (name, dll, applyRowChanges, side) in runs.Where(s => only is null || s.Name.StartsWith(only, StringComparison.Ordinal)))
        {
            Console.WriteLine($"--- {name}");
            var results = new Dictionary<string, string>();
            var targets = new Targets(rules, side, _round);
            using var host = await BenchHost.StartAsync(dll, _connectionString,
                new Dictionary<string, string>(_hostEnvironment) { ["ChangeFeed__ApplyRowChanges"] = applyRowChanges ? "true" : "false" });
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
            var scenario = Scenarios(rules).Single(s => s.Name == "dialplan tech-prefix IPv4");
            var acl = await TimeOneAsync(host.Endpoint, Scenarios(rules).Single(s => s.Name == "acl.conf"));
            // Half the first side's maximum, for both sides: the machine is shared, so the second side's
            // maximum would differ for reasons of its own, and latencies are only comparable at one rate.
            var quiet = await MeasureAsync(host, scenario, keepAlive: false, lookupRate);
            lookupRate ??= quiet.HalfRate;
            Record(results, name, "ready after launch", $"{host.StartupTime.TotalSeconds:F1} s");
            Record(results, name, "RSS after start, an acl.conf fetch and a dialplan run (peak)", $"{host.RssMb():F0} MB ({host.PeakRssMb():F0})");
            Record(results, name, "acl.conf", $"{acl.Bytes:N0} bytes, first fetch {acl.Ms:F0} ms");

            // Commit to changed answer, edit after edit.
            foreach (var kind in new[] { "ip_map", "sip_devices", "accounts" })
            {
                var samples = new List<double>();
                for (var i = 0; i < (applyRowChanges ? EditsPerKind : BaselineEditsPerKind); i++)
                {
                    samples.Add((await EditAndWaitAsync(client, host.Endpoint, targets.Next(kind, i))).TotalMilliseconds);
                }

                samples.Sort();
                Record(results, name, $"{kind} edit: commit to changed answer, median / worst of {samples.Count}",
                    $"{Percentile(samples, 0.5):F0} / {samples[^1]:F0} ms");
            }

            // 100 edits spread over a minute, then RSS; the row-change side goes on to 1,000.
            var kinds = new[] { "ip_map", "sip_devices", "accounts" };
            var peak = 0.0;
            using (var sampler = new RssSampler(host))
            {
                for (var i = 0; i < 100; i++)
                {
                    var target = targets.Next(kinds[i % 3], 1000 + i);
                    await ExecuteAsync(target);
                    if (i == 99)
                    {
                        await WaitForChangeAsync(client, host.Endpoint, target.CheckBody, await FetchAsync(client, host.Endpoint, target.CheckBody), TimeSpan.FromMinutes(3));
                    }

                    await Task.Delay(600);
                }

                await Task.Delay(TimeSpan.FromSeconds(5));
                peak = sampler.Peak;
            }

            Record(results, name, "RSS after 100 edits over a minute (peak during them)", $"{host.RssMb():F0} MB ({peak:F0})");
            if (applyRowChanges)
            {
                var series = new List<string>();
                for (var i = 100; i < 1000; i++)
                {
                    await ExecuteAsync(targets.Next(kinds[i % 3], 2000 + i));
                    await Task.Delay(100);
                    if ((i + 1) % 100 == 0)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(3));
                        series.Add($"{host.RssMb():F0}");
                    }
                }

                Record(results, name, "RSS after edits 200, 300 ... 1,000", string.Join(" / ", series) + " MB");
            }

            // A 10,000-row bulk UPDATE in one statement.
            var (first, last, check) = targets.Bulk();
            var before = await FetchAsync(client, host.Endpoint, check);
            using (var sampler = new RssSampler(host))
            {
                var watch = Stopwatch.StartNew();
                await ExecuteAsync(new EditTarget("bulk", "UPDATE ip_map SET status = 1 WHERE id BETWEEN @First AND @Last", new { First = first, Last = last }, check));
                var committed = watch.Elapsed;
                await WaitForChangeAsync(client, host.Endpoint, check, before, TimeSpan.FromMinutes(3));
                var live = watch.Elapsed - committed;
                await Task.Delay(TimeSpan.FromSeconds(3));
                Record(results, name, "10,000-row UPDATE: commit to live; peak RSS during the apply", $"{live.TotalSeconds:F2} s; {sampler.Peak:F0} MB");
            }

            // Lookups at half load, quiet and during a burst of edits (4 per second, every kind).
            var during = await MeasureDuringEditsAsync(host, scenario, targets, quiet.HalfRate);
            Record(results, name, "dialplan p50 / p99 at half load, quiet", $"{quiet.P50Ms:F2} / {quiet.P99Ms:F2} ms at {quiet.HalfRate:F0}/s");
            Record(results, name, "dialplan p50 / p99 at the same rate during a burst of edits", $"{during.P50Ms:F2} / {during.P99Ms:F2} ms, {during.Errors} errors");
            Record(results, name, "RSS at the end", $"{host.RssMb():F0} MB (peak {host.PeakRssMb():F0})");
            sides.Add((name, results));
        }

        report.AppendLine("| 1M rules + 100k devices | " + string.Join(" | ", sides.Select(s => s.Name)) + " |");
        report.AppendLine("|---|" + string.Join("|", sides.Select(_ => "---:")) + "|");
        foreach (var measure in sides[^1].Results.Keys.Union(sides[0].Results.Keys))
        {
            report.AppendLine($"| {measure} | " + string.Join(" | ", sides.Select(s => s.Results.GetValueOrDefault(measure, "not run"))) + " |");
        }

        Console.WriteLine(report);
    }

    private static void Record(Dictionary<string, string> results, string side, string measure, string value)
    {
        results[measure] = value;
        Console.WriteLine($"  [{side}] {measure}: {value}");
    }

    private async Task<TimeSpan> EditAndWaitAsync(HttpClient client, IPEndPoint endpoint, EditTarget target)
    {
        var before = await FetchAsync(client, endpoint, target.CheckBody);
        var watch = Stopwatch.StartNew();
        await ExecuteAsync(target, () => watch.Restart());
        await WaitForChangeAsync(client, endpoint, target.CheckBody, before, TimeSpan.FromMinutes(2));
        return watch.Elapsed;
    }

    /// <summary>Runs the edit with autocommit; <paramref name="committed"/> is called the moment the server confirms the commit.</summary>
    private async Task ExecuteAsync(EditTarget target, Action? committed = null)
    {
        await using var connection = new MySqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(target.Sql, connection);
        foreach (var property in target.Parameters.GetType().GetProperties())
        {
            command.Parameters.AddWithValue("@" + property.Name, property.GetValue(target.Parameters));
        }

        await command.ExecuteNonQueryAsync();
        committed?.Invoke();
    }

    private static async Task<string> FetchAsync(HttpClient client, IPEndPoint endpoint, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded");
        using var response = await client.PostAsync(new Uri($"http://{endpoint}/freeswitch"), content);
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task WaitForChangeAsync(HttpClient client, IPEndPoint endpoint, string body, string before, TimeSpan deadline)
    {
        var watch = Stopwatch.StartNew();
        while (await FetchAsync(client, endpoint, body) == before)
        {
            if (watch.Elapsed > deadline)
            {
                throw new TimeoutException("the edit did not reach the answers");
            }

            await Task.Delay(2);
        }
    }

    private async Task<Measurement> MeasureDuringEditsAsync(BenchHost host, Scenario scenario, Targets targets, double rate)
    {
        using var stop = new CancellationTokenSource();
        var kinds = new[] { "ip_map", "sip_devices", "accounts" };
        var editor = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                await ExecuteAsync(targets.Next(kinds[i % 3], 5000 + i));
                await Task.Delay(250);
            }
        });
        await Task.Delay(TimeSpan.FromSeconds(1));
        var requests = scenario.Bodies.Select(b => RawHttp.PostRequest(scenario.Path, b, keepAlive: false)).ToArray();
        var half = await OpenLoopAsync(host.Endpoint, requests, keepAlive: false, rate, TimeSpan.FromSeconds(8));
        await stop.CancelAsync();
        await editor;
        half.Latencies.Sort();
        return new Measurement(scenario, false, 0, 0, Percentile(half.Latencies, 0.5), Percentile(half.Latencies, 0.99), rate, half.Errors, 0);
    }

    /// <summary>The service's RSS every 20 ms while it lives; <see cref="Peak"/> is the highest seen.</summary>
    private sealed class RssSampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private double _peak;

        public RssSampler(BenchHost host) => _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                _peak = Math.Max(_peak, host.RssMb());
                await Task.Delay(20);
            }
        });

        public double Peak => _peak;

        public void Dispose()
        {
            _stop.Cancel();
            _loop.Wait();
            _stop.Dispose();
        }
    }
}
