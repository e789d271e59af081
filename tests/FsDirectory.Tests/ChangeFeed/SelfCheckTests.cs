using Dapper;
using FsDirectory.ChangeFeed;
using FsDirectory.Tests.EventSocket;
using FsDirectory.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using static FsDirectory.Tests.ChangeFeed.FeedTestCalls;

namespace FsDirectory.Tests.ChangeFeed;

/// <summary>
/// The periodic self-check: the live snapshot against the tables, streamed, with no second snapshot.
/// A change that commits later than the late-commit window is the documented way for the row-change
/// path to miss one; the check must find it, count it in /metrics and repair it.
/// </summary>
public sealed class SelfCheckTests : IAsyncLifetime
{
    private TestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task After_edits_of_every_table_the_self_check_finds_the_live_snapshot_equal_to_the_tables()
    {
        await using var server = await FsDirectoryServer.StartAsync(_database.ConnectionString);
        await _database.ExecuteAsync(
            $"""
            {InsertRule("192.0.2.140")};
            UPDATE accounts SET status = 1 WHERE id = 3;
            UPDATE sip_devices SET username = '1009' WHERE id = 2;
            INSERT INTO sip_devices (username, accountid, reseller_id, dir_params, dir_vars, status) VALUES ('1003', 2, 0, '{"{}"}', '{"{}"}', 0);
            UPDATE sip_profiles SET profile_data = '{"{"}"context":"public"{"}"}' WHERE id = 1;
            UPDATE ip_map SET ip = 'nonsense' WHERE id = 2;
            """);
        await server.ReloadAsync();

        var result = await server.Services.GetRequiredService<SnapshotSelfCheck>().CheckAndRepairAsync(CancellationToken.None);

        Assert.True(result.Outcome == SelfCheckResult.Match, string.Join("; ", result.Differences));
        Assert.Contains("fsdir_snapshot_self_checks_total{result=\"match\"} 1", await server.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rows_changed_after_the_snapshot_are_left_out_of_the_comparison_instead_of_reported()
    {
        // The poll loop never comes round again in this test: the edits stay unapplied.
        await using var server = await FsDirectoryServer.StartAsync(_database.ConnectionString, new Dictionary<string, string?> { ["Database:PollInterval"] = "00:01:00" });
        await _database.ExecuteAsync(InsertRule("192.0.2.141"));
        await _database.ExecuteAsync("UPDATE accounts SET status = 1 WHERE id = 3; UPDATE sip_devices SET username = '1001b' WHERE id = 1");
        Assert.False(await AcceptedAsync(server, "192.0.2.141"));

        var result = await server.Services.GetRequiredService<SnapshotSelfCheck>().CheckAsync(CancellationToken.None);

        Assert.True(result.Outcome == SelfCheckResult.Match, string.Join("; ", result.Differences));
    }

    [Fact]
    public async Task A_change_committed_later_than_the_late_commit_window_is_found_counted_and_repaired_by_a_full_rebuild()
    {
        await using var server = await FsDirectoryServer.StartAsync(_database.ConnectionString, new Dictionary<string, string?>
        {
            ["ChangeFeed:LateCommitWindow"] = "00:00:01",
            ["ChangeFeed:Retention"] = "00:01:00",
        });

        await using var held = new MySqlConnection(_database.ConnectionString);
        await held.OpenAsync();
        await using var transaction = await held.BeginTransactionAsync();
        await held.ExecuteAsync(InsertRule("192.0.2.142"), transaction: transaction);
        await _database.ExecuteAsync(InsertRule("192.0.2.143"));
        await Eventually.TrueAsync(() => AcceptedAsync(server, "192.0.2.143"), Deadline, "the later change is applied");
        // Past the window the skipped id is given up (a rollback or another Galera node's id, as far as the reader can tell).
        await Eventually.TrueAsync(() => server.Snapshot!.FeedPosition!.Gaps.Count == 0, Deadline, "the gap is given up");
        await transaction.CommitAsync();
        await server.ReloadAsync();
        Assert.False(await AcceptedAsync(server, "192.0.2.142"));

        var result = await server.Services.GetRequiredService<SnapshotSelfCheck>().CheckAndRepairAsync(CancellationToken.None);

        Assert.Equal(SelfCheckResult.Mismatch, result.Outcome);
        Assert.Contains(result.Differences, d => d.StartsWith("ip_map ", StringComparison.Ordinal) && d.Contains("192.0.2.142", StringComparison.Ordinal));
        Assert.True(await AcceptedAsync(server, "192.0.2.142"));
        var metrics = await server.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("fsdir_snapshot_self_checks_total{result=\"mismatch\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("fsdir_snapshot_rebuilds_total{reason=\"self_check\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains(server.Logs.Lines, l => l.Contains("Self-check", StringComparison.Ordinal) && l.Contains("192.0.2.142", StringComparison.Ordinal));
        Assert.Equal(SelfCheckResult.Match, (await server.Services.GetRequiredService<SnapshotSelfCheck>().CheckAsync(CancellationToken.None)).Outcome);
    }
}
