using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Net;
using System.Text.Json;
using System.Text;
using Dapper;
using FsDirectory.Tests.Admin;
using FsDirectory.Tests.EventSocket;
using FsDirectory.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using Xunit.Abstractions;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Cluster;

/// <summary>
/// Several instances over a real three-node Galera cluster on loopback, each instance on its own
/// node first, all pushing to one switch. Figures are printed to the test output (README,
/// "Deployment at scale").
/// </summary>
[Collection(GaleraClusterGroup.Name)]
public sealed class GaleraClusterTests(GaleraCluster cluster, ITestOutputHelper output)
{
    private const string AdminKey = "galera-test-admin-key-0123456789";

    [Theory]
    [InlineData(ChangeDetection.Triggers)]
    [InlineData(ChangeDetection.Checksum)]
    public async Task A_burst_of_50_sql_inserts_on_node_3_is_answered_by_three_instances_within_2_s_and_pushed_at_most_twice(ChangeDetection mode)
    {
        await using var database = await cluster.CreateDatabaseAsync();
        if (mode == ChangeDetection.Checksum)
        {
            await DropTriggersAsync(database.Name);
        }

        await using var fleet = await Fleet.StartAsync(Enumerable.Range(1, 3).Select(n => cluster.InstanceConnectionString(database.Name, n)));
        await fleet.WaitUntilSteadyAsync();
        Assert.All(await fleet.StatusesAsync(), s => Assert.Equal(mode.ToString(), s.Detection));
        Assert.Equal(
            [cluster.NodeAddress(1), cluster.NodeAddress(2), cluster.NodeAddress(3)],
            (await fleet.StatusesAsync()).Select(static s => s.DatabaseNode).Order(StringComparer.Ordinal));

        var sql = new StringBuilder();
        for (var i = 0; i < 50; i++)
        {
            sql.Append(CultureInvariant($"INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status) VALUES ({5000 + i}, 'burst {i}', '10.50.{i}.1/32', 2, 1, 0, 0, '', 'default', 0);\n"));
        }

        await cluster.ExecuteAsync(3, database.Name, sql.ToString());
        var committed = Stopwatch.StartNew();

        // Statements on one session commit in order and a snapshot is one consistent read, so an
        // instance that answers the last rule has all 50; each instance is watched on its own.
        var answered = await Task.WhenAll(fleet.Instances.Select(async instance =>
        {
            await Eventually.TrueAsync(() => TransfersToAccount2Async(instance, "10.50.49.1"), TimeSpan.FromSeconds(10), "the last rule answered");
            return committed.Elapsed;
        }));
        output.WriteLine($"{mode}: last of 50 inserts on node 3 -> answered by the instances in {string.Join(", ", answered.Select(static t => $"{t.TotalMilliseconds:F0} ms"))}");
        Assert.All(answered, static t => Assert.True(t <= TimeSpan.FromSeconds(2), $"answered after {t.TotalMilliseconds:F0} ms"));
        foreach (var instance in fleet.Instances)
        {
            for (var i = 0; i < 50; i++)
            {
                Assert.True(await TransfersToAccount2Async(instance, CultureInvariant($"10.50.{i}.1")), $"rule {i} on {instance.Address}");
            }
        }

        await Eventually.TrueAsync(() => fleet.Switch.Count("reloadacl") >= 1, TimeSpan.FromSeconds(8), "the burst pushed");
        output.WriteLine($"{mode}: -> first reloadacl at the switch after {committed.Elapsed.TotalMilliseconds:F0} ms");
        // Longer than Debounce + MinReloadInterval + PeerWait: a third push, or a second pusher, would show.
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.InRange(fleet.Switch.Count("reloadacl"), 1, 2);
        Assert.Single(await fleet.StatusesAsync(), static s => s.EventSocket.PushLockHeld);
    }

    [Fact]
    public async Task A_killed_holder_is_replaced_within_ten_seconds_by_exactly_one_instance_on_another_node()
    {
        await using var database = await cluster.CreateDatabaseAsync();
        await using var fleet = await Fleet.StartAsync(Enumerable.Range(1, 3).Select(n => cluster.InstanceConnectionString(database.Name, n)));

        var took = await fleet.KillHolderAndChangeARuleAsync(sql => cluster.ExecuteAsync(2, database.Name, sql));

        output.WriteLine($"galera: holder killed -> reloadacl from its successor in {took.TotalSeconds:F1} s");
        Assert.True(took <= TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Stopping_an_instances_database_node_loses_no_answer_and_it_serves_new_rules_from_another_node_within_5_s()
    {
        await using var database = await cluster.CreateDatabaseAsync();
        await using var instance = await FsDirectoryProcess.StartAsync(
            cluster.InstanceConnectionString(database.Name, 1), new Dictionary<string, string?> { ["Database:FailbackInterval"] = "00:00:02" });
        Assert.Equal(cluster.NodeAddress(1), (await instance.StatusAsync()).DatabaseNode);

        using var stop = new CancellationTokenSource();
        var load = Task.Run(() => PostCapturesAsync(instance, stop.Token));
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            await cluster.StopNodeAsync(1);
            var moved = await Eventually.TrueAsync(async () => (await instance.StatusAsync()).DatabaseNode == cluster.NodeAddress(2), TimeSpan.FromSeconds(5), "moved to node 2");
            output.WriteLine($"node 1 stopped -> instance reads node 2 after {moved.TotalMilliseconds:F0} ms");

            await cluster.ExecuteAsync(2, database.Name,
                "INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status) VALUES (7002, 'while node 1 is down', '192.0.2.172/32', 2, 1, 0, 0, '', 'default', 0)");
            var served = await Eventually.TrueAsync(() => TransfersToAccount2Async(instance, "192.0.2.172"), TimeSpan.FromSeconds(5), "new rule served");
            output.WriteLine($"rule inserted on node 2 -> served by the instance of node 1 after {served.TotalMilliseconds:F0} ms");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        finally
        {
            await stop.CancelAsync();
            await cluster.StartNodeAsync(1);
        }

        var (answers, errors, wrong, degraded) = await load;
        output.WriteLine($"{answers} answers during the node stop: {errors} errors, {wrong} wrong, {degraded} degraded readiness samples");
        Assert.True(answers > 50, $"only {answers} answers");
        Assert.Equal(0, errors);
        Assert.Equal(0, wrong);
        Assert.Equal(0, degraded);

        // Its own node back in the cluster: within FailbackInterval the instance reads from it again.
        await cluster.WaitUntilWholeAsync();
        await Eventually.TrueAsync(async () => (await instance.StatusAsync()).DatabaseNode == cluster.NodeAddress(1), TimeSpan.FromSeconds(10), "back on node 1");
    }

    [Fact]
    public async Task An_instance_whose_node_is_cut_off_from_the_cluster_moves_to_a_primary_node()
    {
        await using var database = await cluster.CreateDatabaseAsync();
        await using var instance = await FsDirectoryProcess.StartAsync(cluster.InstanceConnectionString(database.Name, 3), new Dictionary<string, string?>());
        try
        {
            // The node still accepts connections, so only the failing statements (1047) show it is unusable.
            await cluster.IsolateNodeAsync(3, isolated: true);
            var moved = await Eventually.TrueAsync(async () => (await instance.StatusAsync()).DatabaseNode == cluster.NodeAddress(1), TimeSpan.FromSeconds(20), "moved off the isolated node");
            output.WriteLine($"node 3 isolated -> instance reads node 1 after {moved.TotalMilliseconds:F0} ms");

            await cluster.ExecuteAsync(1, database.Name,
                "INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status) VALUES (7003, 'node 3 cut off', '192.0.2.173/32', 2, 1, 0, 0, '', 'default', 0)");
            await Eventually.TrueAsync(() => TransfersToAccount2Async(instance, "192.0.2.173"), TimeSpan.FromSeconds(5), "new rule served");
            Assert.Equal("ready", (await instance.Client.GetFromJsonAsync<JsonElement>("/health/ready")).GetProperty("status").GetString());
        }
        finally
        {
            await cluster.IsolateNodeAsync(3, isolated: false);
            await cluster.WaitUntilWholeAsync();
        }
    }

    [Fact]
    public async Task Duplicate_creates_through_two_instances_on_two_nodes_succeed_exactly_once_each_of_20_times()
    {
        await using var database = await cluster.CreateDatabaseAsync();
        var settings = new Dictionary<string, string?> { ["Admin:ApiKeys:0:Key"] = AdminKey, ["Admin:ApiKeys:0:Name"] = "ops" };
        await using var first = await FsDirectoryProcess.StartAsync(cluster.InstanceConnectionString(database.Name, 1), settings);
        await using var second = await FsDirectoryProcess.StartAsync(cluster.InstanceConnectionString(database.Name, 2), settings);
        var clients = new[] { new AdminClient(first.Client, AdminKey), new AdminClient(second.Client, AdminKey) };

        for (var i = 0; i < 20; i++)
        {
            var body = new { name = $"race {i}", ip = $"10.70.{i}.0/24", accountId = 2, prefix = "99*" };
            var results = await Task.WhenAll(clients.Select(c => c.PostAsync("/api/ip-settings", body)));

            var created = Assert.Single(results, static r => r.Status == HttpStatusCode.Created);
            var refused = Assert.Single(results, static r => r.Status != HttpStatusCode.Created);
            Assert.Equal(HttpStatusCode.Conflict, refused.Status);
            Assert.Equal(created.Body.GetProperty("id").GetInt32(), refused.Body.GetProperty("existingId").GetInt32());
        }

        Assert.Equal(20, await cluster.CountAsync(3, database.Name, "SELECT COUNT(*) FROM ip_map WHERE ip LIKE '10.70.%'"));
    }

    [Fact]
    public async Task Writes_to_one_table_on_two_nodes_at_once_never_fail_certification_and_are_applied_row_by_row()
    {
        await using var database = await cluster.CreateDatabaseAsync();
        await using var server = await FsDirectoryServer.StartAsync(cluster.InstanceConnectionString(database.Name, 3));
        Assert.Equal(ChangeDetection.Triggers, server.Services.GetRequiredService<ReloadStatus>().Detection);

        // 004's triggers bumped one version row per table here, so two nodes writing ip_map at once
        // conflicted in certification (1213); the feed's triggers only insert rows with interleaved ids.
        var errors = new ConcurrentBag<string>();
        async Task WriteAsync(int node)
        {
            await using var connection = cluster.Connect(node, database.Name);
            for (var i = 0; i < 100; i++)
            {
                try
                {
                    var id = await connection.ExecuteScalarAsync<long>(
                        """
                        INSERT INTO ip_map (name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status)
                        VALUES (@Name, @Ip, 2, 1, 0, 0, '', 'default', 0);
                        SELECT LAST_INSERT_ID();
                        """, new { Name = CultureInvariant($"node {node} #{i}"), Ip = CultureInvariant($"10.8{node}.{i}.0/24") });
                    if (i % 3 == 0)
                    {
                        await connection.ExecuteAsync("UPDATE ip_map SET prefix = '7*' WHERE id = @id", new { id });
                    }

                    if (i % 5 == 0)
                    {
                        await connection.ExecuteAsync("DELETE FROM ip_map WHERE id = @id", new { id });
                    }
                }
                catch (MySqlException ex)
                {
                    errors.Add(CultureInvariant($"node {node}, write {i}: error {(int)ex.ErrorCode} {ex.Message}"));
                }
            }
        }

        await Task.WhenAll(WriteAsync(1), WriteAsync(2));

        Assert.Empty(errors);
        await Eventually.TrueAsync(async () => await cluster.CountAsync(3, database.Name, "SELECT COUNT(*) FROM ip_map WHERE ip LIKE '10.8_.%'") == 160,
            TimeSpan.FromSeconds(10), "node 3 has applied both nodes' writes");
        await SnapshotEquivalence.AssertLiveEqualsFullRebuildAsync(server, "after two nodes wrote ip_map at once");
        Assert.Equal(160, server.Snapshot!.UsableRules.Count(static r => r.Name.StartsWith("node ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_migrations_apply_again_through_another_node_and_every_table_has_a_primary_key()
    {
        await using var database = await cluster.CreateDatabaseAsync();

        await database.ApplyMigrationsAsync(through: cluster.NodeServer(2));

        Assert.Equal(0, await cluster.CountAsync(3, database.Name,
            """
            SELECT COUNT(*) FROM information_schema.TABLES t
            WHERE t.TABLE_SCHEMA = DATABASE() AND NOT EXISTS (
              SELECT 1 FROM information_schema.TABLE_CONSTRAINTS c
              WHERE c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME AND c.CONSTRAINT_TYPE = 'PRIMARY KEY')
            """));
        Assert.Equal(
            await cluster.CountAsync(1, database.Name, "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"),
            await cluster.CountAsync(3, database.Name, "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"));
    }

    /// <summary>Directory and dialplan captures in a loop; every answer is checked, and readiness is sampled between them.</summary>
    private static async Task<(int Answers, int Errors, int Wrong, int Degraded)> PostCapturesAsync(FsDirectoryProcess instance, CancellationToken stop)
    {
        int answers = 0, errors = 0, wrong = 0, degraded = 0;
        var register = FreeSwitchForm.Load("directory-sip_auth-register");
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var directory = await instance.Client.FetchAsync(register);
                var dialplan = await TransfersToAccount2Async(instance, "192.0.2.10");
                if (Param(directory, "a1-hash") is null || !dialplan)
                {
                    wrong++;
                }

                using var ready = await instance.Client.GetAsync("/health/ready", CancellationToken.None);
                if ((await ready.Content.ReadFromJsonAsync<JsonElement>(CancellationToken.None)).GetProperty("status").GetString() != "ready")
                {
                    degraded++;
                }

                answers += 2;
            }
            catch (Exception ex) when (ex is HttpRequestException or Xunit.Sdk.XunitException or System.Xml.XmlException)
            {
                errors++;
            }
        }

        return (answers, errors, wrong, degraded);
    }

    /// <summary>True when the call is transferred as account 2 (the rules here all belong to it).</summary>
    private static async Task<bool> TransfersToAccount2Async(FsDirectoryProcess instance, string source)
    {
        var document = await instance.Client.FetchAsync(EventSocketHarness.CallFrom(source, "12066418000"));
        var actions = Actions(document);
        return actions.Any(static a => a.Application == "transfer") && actions.Contains(("set", "fsdir_account_id=2"));
    }

    private async Task DropTriggersAsync(string database)
    {
        await using var connection = cluster.Connect(1, database);
        foreach (var trigger in await connection.QueryAsync<string>("SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"))
        {
            await connection.ExecuteAsync($"DROP TRIGGER `{trigger}`");
        }
    }

    private static string CultureInvariant(FormattableString text) => FormattableString.Invariant(text);
}
