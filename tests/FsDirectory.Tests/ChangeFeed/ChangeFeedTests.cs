using Dapper;
using FsDirectory.ChangeFeed;
using FsDirectory.Metrics;
using FsDirectory.Tests.EventSocket;
using FsDirectory.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;
using static FsDirectory.Tests.ChangeFeed.FeedTestCalls;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.ChangeFeed;

/// <summary>
/// The per-row change feed over a real MariaDB: what the triggers write, how the service follows the
/// feed when ids commit out of order, and when it falls back to a full rebuild.
/// </summary>
public sealed class ChangeFeedTests : IAsyncLifetime
{
    private TestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    private static double Rebuilds(FsDirectoryServer server, string reason) =>
        server.Services.GetRequiredService<FsDirectoryMetrics>().Rebuilds.WithLabels(reason).Value;

    private static double AllRebuilds(FsDirectoryServer server) =>
        Enum.GetValues<RebuildReason>().Sum(r => Rebuilds(server, FsDirectoryMetrics.Label(r)));

    private DatabaseConnector Connector() =>
        new(_database.ConnectionString, Options.Create(new DatabaseOptions()), TimeProvider.System, NullLogger<DatabaseConnector>.Instance);

    [Fact]
    public async Task The_triggers_only_insert_feed_rows_naming_table_row_and_kind_and_never_update_a_shared_row()
    {
        var bodies = (await OpenAsync().ContinueWith(async c =>
        {
            await using var connection = await c;
            return (await connection.QueryAsync<string>(
                "SELECT ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME LIKE 'fsdir\\_%' AND ACTION_TIMING = 'AFTER'")).ToList();
        }).Unwrap());
        var versions = await _database.ScalarAsync<long>("SELECT SUM(version) FROM fsdir_change_version");

        await _database.ExecuteAsync(InsertRule("192.0.2.150"));
        var id = await _database.ScalarAsync<long>("SELECT MAX(id) FROM ip_map");
        await _database.ExecuteAsync("UPDATE ip_map SET prefix = '5*' WHERE id = @id", new { id });
        await _database.ExecuteAsync("DELETE FROM ip_map WHERE id = @id", new { id });
        await _database.ExecuteAsync("UPDATE accounts SET status = 1 WHERE id = 3");

        Assert.Equal(DirectoryTables.ExpectedTriggerCount, bodies.Count);
        Assert.All(bodies, body => Assert.DoesNotContain("UPDATE", body, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(versions, await _database.ScalarAsync<long>("SELECT SUM(version) FROM fsdir_change_version"));
        Assert.Equal("IUD", await _database.ScalarAsync<string>(
            "SELECT GROUP_CONCAT(change_kind ORDER BY id SEPARATOR '') FROM fsdir_change_feed WHERE table_name = 'ip_map' AND row_id = @id", new { id }));
        Assert.Equal(1L, await _database.ScalarAsync<long>("SELECT COUNT(*) FROM fsdir_change_feed WHERE table_name = 'accounts' AND row_id = 3 AND change_kind = 'U'"));
    }

    [Fact]
    public async Task Account_columns_the_service_does_not_read_leave_no_feed_row()
    {
        var before = await _database.ScalarAsync<long>("SELECT COUNT(*) FROM fsdir_change_feed");

        // ASTPP writes accounts.balance on every call; here a column of the same kind.
        await _database.ExecuteAsync("UPDATE accounts SET first_name = 'Ada', company_name = 'Renamed' WHERE id = 2");

        Assert.Equal(before, await _database.ScalarAsync<long>("SELECT COUNT(*) FROM fsdir_change_feed"));
    }

    [Fact]
    public async Task An_accounts_balance_update_leaves_no_feed_row_and_neither_rebuilds_nor_patches_the_snapshot()
    {
        // ASTPP's column (sql/schema.sql keeps only what the service reads): written on every call.
        await _database.ExecuteAsync("ALTER TABLE accounts ADD COLUMN IF NOT EXISTS balance decimal(20,5) NOT NULL DEFAULT '0.00000'");
        await using var server = await FsDirectoryServer.StartAsync(_database.ConnectionString);
        var metrics = server.Services.GetRequiredService<FsDirectoryMetrics>();
        var (rebuilds, applied, version) = (AllRebuilds(server), metrics.FeedRowsApplied.Value, server.Snapshot!.Version);
        var feed = await _database.ScalarAsync<long>("SELECT COUNT(*) FROM fsdir_change_feed");

        await _database.ExecuteAsync("UPDATE accounts SET balance = balance - 0.0125 WHERE id IN (1, 2, 3)");
        await Task.Delay(TimeSpan.FromMilliseconds(500));

        Assert.Equal(feed, await _database.ScalarAsync<long>("SELECT COUNT(*) FROM fsdir_change_feed"));
        Assert.Equal(rebuilds, AllRebuilds(server));
        Assert.Equal(applied, metrics.FeedRowsApplied.Value);
        Assert.Equal(version, server.Snapshot!.Version);
    }

    [Fact]
    public async Task The_call_limit_columns_are_read_so_an_edit_of_one_leaves_a_feed_row()
    {
        var before = await _database.ScalarAsync<long>("SELECT COUNT(*) FROM fsdir_change_feed WHERE table_name = 'accounts' AND row_id = 2");

        await _database.ExecuteAsync("UPDATE accounts SET maxchannels = maxchannels + 1 WHERE id = 2");
        await _database.ExecuteAsync("UPDATE accounts SET cps = cps + 1 WHERE id = 2");

        Assert.Equal(before + 2, await _database.ScalarAsync<long>("SELECT COUNT(*) FROM fsdir_change_feed WHERE table_name = 'accounts' AND row_id = 2"));
    }

    [Fact]
    public async Task An_edit_is_applied_as_a_row_change_without_rebuilding_the_snapshot()
    {
        await using var server = await FsDirectoryServer.StartAsync(_database.ConnectionString);
        var rebuilds = AllRebuilds(server);
        Assert.False(await AcceptedAsync(server, "192.0.2.151"));

        await _database.ExecuteAsync(InsertRule("192.0.2.151"));

        await Eventually.TrueAsync(() => AcceptedAsync(server, "192.0.2.151"), Deadline, "the new rule answers calls");
        Assert.Equal(rebuilds, AllRebuilds(server));
        Assert.True(server.Services.GetRequiredService<FsDirectoryMetrics>().FeedRowsApplied.Value >= 1);
    }

    [Fact]
    public async Task A_transaction_that_commits_after_later_ones_is_still_applied()
    {
        await using var server = await FsDirectoryServer.StartAsync(_database.ConnectionString);
        var metrics = server.Services.GetRequiredService<FsDirectoryMetrics>();

        // Its feed id is taken now; later transactions take higher ids and commit first.
        await using var held = await OpenAsync();
        await using var transaction = await held.BeginTransactionAsync();
        await held.ExecuteAsync(InsertRule("192.0.2.161"), transaction: transaction);
        await _database.ExecuteAsync(InsertRule("192.0.2.162"));
        await Eventually.TrueAsync(() => AcceptedAsync(server, "192.0.2.162"), Deadline, "the later transaction is applied");
        Assert.False(await AcceptedAsync(server, "192.0.2.161"));

        await transaction.CommitAsync();

        await Eventually.TrueAsync(() => AcceptedAsync(server, "192.0.2.161"), Deadline, "the held transaction is applied once it commits");
        Assert.True(metrics.FeedLateRows.Value >= 1);
        Assert.Equal(1, AllRebuilds(server));
    }

    [Fact]
    public async Task Changes_from_sessions_stepping_ids_like_galera_nodes_are_all_applied_whatever_their_commit_order()
    {
        await using var server = await FsDirectoryServer.StartAsync(_database.ConnectionString);
        var nodes = new List<(MySqlConnection Connection, MySqlTransaction Transaction)>();
        for (var offset = 1; offset <= 3; offset++)
        {
            var connection = await OpenAsync();
            await connection.ExecuteAsync($"SET SESSION auto_increment_increment = 3, auto_increment_offset = {offset}");
            var transaction = await connection.BeginTransactionAsync();
            await connection.ExecuteAsync(InsertRule($"192.0.2.17{offset}"), transaction: transaction);
            await connection.ExecuteAsync("UPDATE sip_devices SET dir_params = @p WHERE id = @id", new { id = offset, p = $$"""{"password":"node-{{offset}}"}""" }, transaction);
            nodes.Add((connection, transaction));
        }

        // The highest ids commit first; node 2 rolls back, leaving its ids unused for good.
        await nodes[2].Transaction.CommitAsync();
        await Eventually.TrueAsync(() => AcceptedAsync(server, "192.0.2.173"), Deadline, "node 3's change");
        await nodes[1].Transaction.RollbackAsync();
        await nodes[0].Transaction.CommitAsync();
        await Eventually.TrueAsync(() => AcceptedAsync(server, "192.0.2.171"), Deadline, "node 1's change, committed last with the lowest ids");
        foreach (var (connection, transaction) in nodes)
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }

        Assert.False(await AcceptedAsync(server, "192.0.2.172"));
        Assert.Equal("node-1", server.Snapshot!.DevicesById.Find(1)!.Password);
        Assert.Equal("Contoso-1002-secret", server.Snapshot.DevicesById.Find(2)!.Password);
        Assert.Equal("node-3", server.Snapshot.DevicesById.Find(3)!.Password);
        Assert.Equal(1, AllRebuilds(server));
        await SnapshotEquivalence.AssertLiveEqualsFullRebuildAsync(server, "after interleaved commits");
    }

    [Fact]
    public async Task Trimming_the_feed_under_a_stalled_reader_makes_it_rebuild_in_full_and_answer_correctly()
    {
        // The service connects as its own user, so that the test can take its read access to the feed away.
        await using var user = await ServiceUser.CreateAsync(_database);
        await using var server = await FsDirectoryServer.StartAsync(user.ConnectionString);
        var status = server.Services.GetRequiredService<ReloadStatus>();
        Assert.Equal(ChangeDetection.Triggers, status.Detection);
        Assert.True(await AcceptedAsync(server, "192.0.2.10"));

        await user.RevokeFeedAsync();
        await Eventually.TrueAsync(() => status.LastError is not null, Deadline, "the reader stalls");
        await _database.ExecuteAsync(InsertRule("192.0.2.181"));
        await _database.ExecuteAsync(InsertRule("192.0.2.182"));
        await _database.ExecuteAsync("DELETE FROM ip_map WHERE id = 1");
        await using var connector = Connector();
        var trimmed = await new DirectoryStore(connector).TrimFeedAsync(TimeSpan.Zero, 10, CancellationToken.None);
        Assert.True(trimmed > 3);
        Assert.Equal(1L, await _database.ScalarAsync<long>("SELECT COUNT(*) FROM fsdir_change_feed"));
        Assert.False(await AcceptedAsync(server, "192.0.2.181"));

        await user.GrantFeedAsync();

        await Eventually.TrueAsync(() => Rebuilds(server, "feed_trimmed") >= 1, Deadline, "a full rebuild after the trim");
        Assert.True(await AcceptedAsync(server, "192.0.2.181"));
        Assert.True(await AcceptedAsync(server, "192.0.2.182"));
        Assert.False(await AcceptedAsync(server, "192.0.2.10"));
        await SnapshotEquivalence.AssertLiveEqualsFullRebuildAsync(server, "after the rebuild");
    }

    [Fact]
    public async Task Trimming_deletes_rows_past_the_retention_and_always_keeps_the_newest()
    {
        for (var i = 0; i < 5; i++)
        {
            await _database.ExecuteAsync(InsertRule($"192.0.2.19{i}"));
        }

        await using var connector = Connector();
        var store = new DirectoryStore(connector);
        var newest = await _database.ScalarAsync<long>("SELECT MAX(id) FROM fsdir_change_feed");

        Assert.Equal(0, await store.TrimFeedAsync(TimeSpan.FromHours(1), 10, CancellationToken.None));
        Assert.True(await store.TrimFeedAsync(TimeSpan.Zero, 10, CancellationToken.None) > 0);
        Assert.Equal(newest, await _database.ScalarAsync<long>("SELECT MIN(id) FROM fsdir_change_feed"));
        Assert.Equal(0, await store.TrimFeedAsync(TimeSpan.Zero, 10, CancellationToken.None));
    }

    [Fact]
    public async Task A_missing_feed_trigger_falls_back_to_checksum_polling_until_the_migration_is_applied_again()
    {
        await _database.ExecuteAsync("DROP TRIGGER fsdir_ip_map_del");
        await using var server = await FsDirectoryServer.StartAsync(_database.ConnectionString, new Dictionary<string, string?> { ["Database:ChecksumPollInterval"] = "00:00:01" });
        var status = server.Services.GetRequiredService<ReloadStatus>();
        Assert.Equal(ChangeDetection.Checksum, status.Detection);
        Assert.Null(server.Snapshot!.FeedPosition);
        Assert.Contains(server.Logs.Lines, l => l.Contains("ip_map DELETE", StringComparison.Ordinal) && l.Contains("007_change_feed.sql", StringComparison.Ordinal));

        await _database.ApplyFileAsync(Paths.Sql(Path.Combine("migrations", "007_change_feed.sql")));

        await Eventually.TrueAsync(() => status.Detection == ChangeDetection.Triggers && server.Snapshot!.FeedPosition is not null, Deadline, "the feed is used again");
        await _database.ExecuteAsync(InsertRule("192.0.2.195"));
        await Eventually.TrueAsync(() => AcceptedAsync(server, "192.0.2.195"), Deadline, "an edit after the switch");
        Assert.True(server.Services.GetRequiredService<FsDirectoryMetrics>().FeedRowsApplied.Value >= 1);
    }

    [Fact]
    public async Task With_row_changes_off_an_edit_rereads_the_changed_tables_as_before_the_feed()
    {
        await using var server = await FsDirectoryServer.StartAsync(_database.ConnectionString, new Dictionary<string, string?> { ["ChangeFeed:ApplyRowChanges"] = "false" });
        var devices = server.Snapshot!.Devices;

        await _database.ExecuteAsync(InsertRule("192.0.2.196"));

        await Eventually.TrueAsync(() => AcceptedAsync(server, "192.0.2.196"), Deadline, "the new rule answers calls");
        Assert.Equal(1, Rebuilds(server, "tables_changed"));
        Assert.Equal(0, server.Services.GetRequiredService<FsDirectoryMetrics>().FeedRowsApplied.Value);
        Assert.Same(devices, server.Snapshot!.Devices);
        Assert.True(server.Snapshot.HasAnswer("acl.conf"));
    }

    [Fact]
    public async Task A_new_default_routing_context_rebuilds_the_rules_and_loses_no_pending_change_of_another_table()
    {
        await _database.ExecuteAsync(InsertRule("192.0.2.197", context: string.Empty));
        // Only the reloads this test asks for.
        await using var server = await FsDirectoryServer.StartAsync(_database.ConnectionString, new Dictionary<string, string?> { ["Database:PollInterval"] = "00:01:00" });
        Assert.Contains(("transfer", "+12066418000 XML default"), Actions(await server.FetchAsync(Call("192.0.2.197"))));
        await _database.ExecuteAsync("UPDATE sip_devices SET dir_params = '{\"password\":\"pending\"}' WHERE id = 1");

        var configuration = (IConfigurationRoot)server.Services.GetRequiredService<IConfiguration>();
        configuration["FreeSwitch:DefaultRoutingContext"] = "routing";
        configuration.Reload();
        await server.ReloadAsync();

        Assert.Equal(1, Rebuilds(server, "routing_context"));
        Assert.Contains(("transfer", "+12066418000 XML routing"), Actions(await server.FetchAsync(Call("192.0.2.197"))));
        await server.ReloadAsync();
        Assert.Equal("pending", server.Snapshot!.DevicesById.Find(1)!.Password);
        await SnapshotEquivalence.AssertLiveEqualsFullRebuildAsync(server, "after the routing context changed");
    }

    private async Task<MySqlConnection> OpenAsync()
    {
        var connection = new MySqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>A MariaDB user with just what the service needs: read the tables, see their triggers, read and trim the feed.</summary>
    private sealed class ServiceUser : IAsyncDisposable
    {
        private readonly TestDatabase _database;
        private readonly string _name;

        private ServiceUser(TestDatabase database, string name)
        {
            _database = database;
            _name = name;
            ConnectionString = new MySqlConnectionStringBuilder(database.ConnectionString) { UserID = name, Password = "svc-" + name }.ConnectionString;
        }

        public string ConnectionString { get; }

        public static async Task<ServiceUser> CreateAsync(TestDatabase database)
        {
            var user = new ServiceUser(database, "fsdir_svc_" + Guid.NewGuid().ToString("N")[..8]);
            await user.RunAsync($"CREATE USER '{user._name}'@'127.0.0.1' IDENTIFIED BY 'svc-{user._name}'");
            foreach (var table in DirectoryTables.Watched)
            {
                await user.RunAsync($"GRANT SELECT, TRIGGER ON `{database.Name}`.`{table}` TO '{user._name}'@'127.0.0.1'");
            }

            await user.GrantFeedAsync();
            return user;
        }

        public Task RevokeFeedAsync() => RunAsync($"REVOKE SELECT, DELETE ON `{_database.Name}`.`fsdir_change_feed` FROM '{_name}'@'127.0.0.1'");

        public Task GrantFeedAsync() => RunAsync($"GRANT SELECT, DELETE ON `{_database.Name}`.`fsdir_change_feed` TO '{_name}'@'127.0.0.1'");

        public async ValueTask DisposeAsync() => await RunAsync($"DROP USER IF EXISTS '{_name}'@'127.0.0.1'");

        private async Task RunAsync(string sql)
        {
            await using var connection = new MySqlConnection(_database.Server);
            await connection.OpenAsync();
            await connection.ExecuteAsync(sql);
        }
    }
}
