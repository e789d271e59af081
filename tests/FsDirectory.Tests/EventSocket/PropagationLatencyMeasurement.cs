using System.Diagnostics;
using System.Globalization;
using FsDirectory.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FsDirectory.Tests.EventSocket;

/// <summary>
/// The BENCHMARKS.md "Change propagation" figures: committed SQL insert to changed dialplan answer,
/// and to <c>reloadacl</c> arriving at a node, over 20 inserts. It prints; its only assertions are
/// that every insert got through, because timings on a shared VM are not a pass/fail criterion.
/// </summary>
public sealed class PropagationLatencyMeasurement(ITestOutputHelper output)
{
    private const int Samples = 20;

    [Fact]
    public async Task Every_one_of_20_sql_inserts_changes_the_answer_and_reaches_the_node_and_the_latencies_are_printed()
    {
        await using var fake = FakeFreeSwitch.Start();
        await using var database = await TestDatabase.CreateAsync(seed: true);
        var settings = EventSocketHarness.Settings([(fake.Address, fake.Password)], minReloadInterval: TimeSpan.Zero);
        // The shipped defaults, not the suite's faster poll: this is what an operator gets.
        settings["Database:PollInterval"] = "00:00:00.250";
        settings["EventSocket:Debounce"] = "00:00:00.300";
        await using var server = await FsDirectoryServer.StartAsync(database.ConnectionString, settings);
        async Task<bool> IsTransferredAsync(string source)
        {
            var document = await server.FetchAsync(EventSocketHarness.CallFrom(source, "12066418000"));
            return FreeSwitchXml.Actions(document).Any(a => a.Application == "transfer");
        }

        await Eventually.TrueAsync(async () =>
        {
            var status = await EventSocketHarness.StatusOf(server);
            return status.EventSocket.PushLockHeld && status.EventSocket.Nodes[0].Connected;
        }, TimeSpan.FromSeconds(10), "pushing");
        await Eventually.TrueAsync(() => fake.Count("reloadacl") == 1, TimeSpan.FromSeconds(10), "the new holder's reloadacl");
        fake.ClearCommands();

        var toAnswer = new List<double>();
        var toNode = new List<double>();
        for (var i = 0; i < Samples; i++)
        {
            var source = $"192.0.2.{100 + i}";
            await database.ExecuteAsync(
                """
                INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status)
                VALUES (@id, 'latency', @cidr, 2, 1, 0, 0, '', 'default', 0)
                """,
                new { id = 800 + i, cidr = source + "/32" });
            var committed = Stopwatch.GetTimestamp();
            await Eventually.TrueAsync(() => IsTransferredAsync(source), TimeSpan.FromSeconds(10), "answer changed");
            toAnswer.Add(Stopwatch.GetElapsedTime(committed).TotalMilliseconds);
            await Eventually.TrueAsync(() => fake.Count("reloadacl") == i + 1, TimeSpan.FromSeconds(10), "reloadacl arrived");
            toNode.Add(Stopwatch.GetElapsedTime(committed, fake.Arrivals("reloadacl")[i]).TotalMilliseconds);
        }

        output.WriteLine(Line("insert -> changed /freeswitch dialplan answer", toAnswer));
        output.WriteLine(Line("insert -> reloadacl at the node", toNode));
        Assert.Equal(Samples, fake.Count("reloadacl"));
    }

    private static string Line(string what, List<double> values)
    {
        var sorted = values.Order().ToList();
        var median = (sorted[(Samples / 2) - 1] + sorted[Samples / 2]) / 2;
        return string.Create(CultureInfo.InvariantCulture, $"{what}: median {median:F0} ms, worst {sorted[^1]:F0} ms, best {sorted[0]:F0} ms (n={Samples})");
    }
}
