using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FsDirectory.Admin;
using FsDirectory.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FsDirectory.Benchmarks.EndToEnd;

/// <summary>
/// Issue 26: what the audit record costs an admin write. The real service (in this process, so that recording can be
/// switched off: no setting does that) on Kestrel over loopback and a real MariaDB at 100,000 rules; the same writes
/// through the JSON API without and with recording, back to back in one run, so both see the same machine load.
/// </summary>
public static class AuditBenchmark
{
    private const string Key = "audit-bench-key-0123456789abcdef";
    private const int Rounds = 6;
    private const int ReplacesPerRound = 60;
    private const int BulksPerRound = 10;
    private const int BulkSize = 100;

    public static async Task<int> RunAsync(string[] args)
    {
        var connection = BenchArgs.Required(args, "--connection");
        var output = BenchArgs.Optional(args, "--out", ".data/bench-audit.md");
        var rules = await BenchDatabase.LoadHundredThousandAsync(connection);

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Default"] = connection,
            ["Admin:ApiKeys:0:Key"] = Key,
            ["Admin:ApiKeys:0:Name"] = "bench",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Warning);
        builder.AddFsDirectory();
        await using var app = builder.Build();
        app.MapFsDirectory();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var writes = app.Services.GetRequiredService<AdminWrites>();
        using var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Add("X-Api-Key", Key);
        while (app.Services.GetRequiredService<SnapshotHolder>().Current is null)
        {
            await Task.Delay(100);
        }

        // Rules the API accepts back unchanged but for the name (the generated data has some it would refuse).
        var replaceable = new List<JsonElement>();
        foreach (var spec in rules.Where(r => r.Id % 97 == 0).Take(400))
        {
            var rule = await client.GetFromJsonAsync<JsonElement>($"/api/ip-settings/{spec.Id}");
            using var response = await client.PutAsJsonAsync($"/api/ip-settings/{spec.Id}", Body(rule, "warm"));
            if (response.IsSuccessStatusCode)
            {
                replaceable.Add(rule);
            }

            if (replaceable.Count == ReplacesPerRound)
            {
                break;
            }
        }

        var uptimeBefore = Uptime();
        var samples = new Dictionary<(string Kind, bool Recording), List<double>>();
        var cpu = new Dictionary<(string Kind, bool Recording), double>();
        var databasePid = await DatabasePidAsync(connection);
        for (var round = 0; round < Rounds; round++)
        {
            // Each write is made twice in a row, without and with its record, the order alternating: both sides see
            // the same moment of this shared machine's load.
            for (var i = 0; i < replaceable.Count; i++)
            {
                var rule = replaceable[i];
                foreach (var recording in (round + i) % 2 == 0 ? new[] { false, true } : [true, false])
                {
                    writes.Recording = recording;
                    var name = $"r{round}{(recording ? "a" : "n")}";
                    await TimeAsync(samples, cpu, databasePid, ("replace one rule", recording),
                        () => client.PutAsJsonAsync($"/api/ip-settings/{rule.GetProperty("id").GetInt32()}", Body(rule, name)));
                }
            }

            for (var bulk = 0; bulk < BulksPerRound; bulk++)
            {
                var ids = Enumerable.Range(50_001 + (bulk * BulkSize), BulkSize).ToArray();
                var status = 1;
                foreach (var recording in (round + bulk) % 2 == 0 ? new[] { false, true } : [true, false])
                {
                    // Deactivate, then activate again: every request changes every row.
                    writes.Recording = recording;
                    var next = status;
                    await TimeAsync(samples, cpu, databasePid, ($"set the status of {BulkSize} rules (bulk)", recording),
                        () => client.PostAsJsonAsync("/api/ip-settings/status", new { ids, status = next }));
                    status = 1 - status;
                }
            }
        }

        writes.Recording = true;
        var uptimeAfter = Uptime();
        var audited = await ScalarAsync(connection, "SELECT COUNT(*) FROM fsdir_audit");

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"{Rounds} rounds of {ReplacesPerRound} single-rule replaces and {BulksPerRound} bulk status changes of {BulkSize} rules, each write made without and with its record back to back (order alternating).");
        report.AppendLine();
        report.AppendLine("| admin write (JSON API, 100,000 rules) | without record: median | p90 | CPU/write | with record: median | p90 | CPU/write | median ratio | CPU ratio |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var kind in samples.Keys.Select(k => k.Kind).Distinct())
        {
            var off = samples[(kind, false)];
            var on = samples[(kind, true)];
            var cpuOff = cpu[(kind, false)] / off.Count;
            var cpuOn = cpu[(kind, true)] / on.Count;
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {kind} (n = {on.Count} each) | {Median(off):F2} ms | {Percentile(off, 0.9):F2} ms | {cpuOff:F2} ms | {Median(on):F2} ms | {Percentile(on, 0.9):F2} ms | {cpuOn:F2} ms | {Median(on) / Median(off):F3} | {cpuOn / cpuOff:F3} |");
        }

        report.AppendLine();
        report.AppendLine("CPU/write: user + system CPU of this process (service and client) and of the MariaDB server during the write, summed over the writes of each side (10 ms ticks, averaged), divided by their number.");

        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Audit records in the table after the run: {audited:N0}.");
        report.AppendLine(CultureInfo.InvariantCulture, $"uptime before: {uptimeBefore}");
        report.AppendLine(CultureInfo.InvariantCulture, $"uptime after:  {uptimeAfter}");
        Console.WriteLine(report);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        await File.WriteAllTextAsync(output, report.ToString());
        await app.StopAsync();
        return 0;
    }

    private static object Body(JsonElement rule, string name) => new
    {
        name,
        ip = rule.GetProperty("ip").GetString(),
        accountId = rule.GetProperty("accountId").GetInt32(),
        sipProfileId = rule.GetProperty("sipProfileId").GetInt32(),
        prefix = rule.GetProperty("prefix").GetString(),
        context = rule.GetProperty("context").GetString(),
        status = rule.GetProperty("status").GetInt32(),
    };

    private static async Task TimeAsync(
        Dictionary<(string, bool), List<double>> samples, Dictionary<(string, bool), double> cpu, int databasePid, (string Kind, bool Recording) key, Func<Task<HttpResponseMessage>> send)
    {
        var cpuBefore = CpuMilliseconds(databasePid);
        var watch = Stopwatch.StartNew();
        using var response = await send();
        var elapsed = watch.Elapsed.TotalMilliseconds;
        cpu[key] = cpu.GetValueOrDefault(key) + (CpuMilliseconds(databasePid) - cpuBefore);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{key.Kind}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        if (!samples.TryGetValue(key, out var list))
        {
            samples[key] = list = [];
        }

        list.Add(elapsed);
    }

    /// <summary>CPU time used so far by this process and by the database server's (from /proc: the server is local).</summary>
    private static double CpuMilliseconds(int databasePid)
    {
        using var self = Process.GetCurrentProcess();
        var fields = File.ReadAllText($"/proc/{databasePid}/stat").Split(") ")[1].Split(' ');
        // utime and stime, fields 14 and 15 of stat (the 12th and 13th after the command name), in clock ticks of 10 ms.
        var databaseTicks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return self.TotalProcessorTime.TotalMilliseconds + (databaseTicks * 10.0);
    }

    private static async Task<int> DatabasePidAsync(string connectionString)
    {
        await using var connection = new MySqlConnector.MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlConnector.MySqlCommand("SELECT @@pid_file", connection);
        var file = (string)(await command.ExecuteScalarAsync())!;
        return int.Parse((await File.ReadAllTextAsync(file)).Trim(), CultureInfo.InvariantCulture);
    }

    private static double Median(List<double> values) => Percentile(values, 0.5);

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        var rank = p * (sorted.Count - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + ((sorted[high] - sorted[low]) * (rank - low));
    }

    private static string Uptime()
    {
        using var process = Process.Start(new ProcessStartInfo("uptime") { RedirectStandardOutput = true, UseShellExecute = false })!;
        var text = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return text;
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new MySqlConnector.MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlConnector.MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}
