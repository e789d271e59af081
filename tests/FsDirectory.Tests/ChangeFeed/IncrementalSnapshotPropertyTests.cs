using System.Globalization;
using Dapper;
using FsDirectory.ChangeFeed;
using FsDirectory.Metrics;
using FsDirectory.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;

namespace FsDirectory.Tests.ChangeFeed;

/// <summary>
/// The issue's property test: random edits of every kind, from concurrent writers (some of them
/// sessions stepping auto-increment ids like the nodes of a three-node Galera cluster, some holding
/// their transaction open, some rolling back), and after each quiet point the snapshot the service
/// maintained from row changes equals a full rebuild of the tables.
/// </summary>
public sealed class IncrementalSnapshotPropertyTests : IAsyncLifetime
{
    private const int Rounds = 8;
    private const int Writers = 3;
    private const int TransactionsPerWriter = 10;

    private static readonly string[] Ips =
    [
        "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.10", "198.51.100.0/24", "198.51.100.7",
        "198.51.100.0/25", "10.0.0.0/8", "2001:db8:1::/48", "2001:db8:1::5", "2001:db8:1::/64", "not-an-ip", "192.0.2.300",
    ];

    private static readonly string[] Prefixes = ["", "", "1234*", "12#", "9", "12", "bad prefix!"];
    private static readonly string[] Contexts = ["default", "default", "", "routing", "bad context"];
    private static readonly int[] ProfileIds = [0, 0, 0, 1, 2, 3, 99];
    private static readonly string[] Usernames = ["d1", "d2", "d3", "d4", "D1", "1001", "1002", ""];
    private static readonly string[] DirParams = ["""{"password":"p1"}""", """{"password":"p2","vm-password":"1"}""", """{"a1-hash":"0123456789abcdef0123456789abcdef"}""", "{}", "{broken"];
    private static readonly string[] DefaultSettings = ["", "0", "1", "1", "2", "3", "x", "99"];
    private static readonly string[] ProfileNames = ["trunks", "default", "carriers"];
    private static readonly string[] AccountNumbers = ["1000000001", "1000000077", "5000000001", "bad number", ""];

    private TestDatabase _database = null!;
    private FsDirectoryServer _server = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        // Without the unique key, rows can share a username and the lowest id must win it.
        await _database.ExecuteAsync("ALTER TABLE sip_devices DROP INDEX username");
        await _database.ExecuteAsync(
            """
            INSERT INTO sip_profiles (id, name, sip_ip, sip_port, profile_data, status) VALUES
              (2, 'trunks', '127.0.0.1', '5080', '{"context":"public"}', 0), (3, 'spare', '127.0.0.1', '5090', '{}', 1);
            INSERT INTO accounts (id, number, reseller_id, pricelist_id, status, type, deleted, sip_credentials_disabled) VALUES
              (6, '1000000006', 0, 1, 0, 0, 0, 0), (7, '1000000007', 0, 1, 1, 0, 0, 0), (8, '1000000008', 0, 1, 0, 0, 1, 0);
            """);
        _server = await FsDirectoryServer.StartAsync(_database.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Random_edits_of_every_kind_from_concurrent_writers_leave_the_live_snapshot_equal_to_a_full_rebuild()
    {
        var seed = Environment.TickCount;
        await SnapshotEquivalence.AssertLiveEqualsFullRebuildAsync(_server, $"seed {seed}, start");
        for (var round = 0; round < Rounds; round++)
        {
            // Odd rounds: each writer steps ids like one node of a three-node Galera cluster.
            var galera = round % 2 == 1;
            await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => WriteAsync(new Random(seed + (round * Writers) + w), galera ? w + 1 : 0)));
            await SnapshotEquivalence.AssertLiveEqualsFullRebuildAsync(_server, $"seed {seed}, round {round}{(galera ? " (Galera-style ids)" : string.Empty)}");
            // And the production self-check, which compares without a second snapshot, agrees.
            var check = await _server.Services.GetRequiredService<SnapshotSelfCheck>().CheckAsync(CancellationToken.None);
            Assert.True(check.Outcome == SelfCheckResult.Match, $"seed {seed}, round {round}: self-check {check.Outcome}: {string.Join("; ", check.Differences)}");
        }

        var metrics = _server.Services.GetRequiredService<FsDirectoryMetrics>();
        Assert.True(metrics.FeedRowsApplied.Value > Rounds * Writers, $"row changes applied: {metrics.FeedRowsApplied.Value}");
    }

    private async Task WriteAsync(Random random, int galeraOffset)
    {
        await using var connection = new MySqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        if (galeraOffset > 0)
        {
            await connection.ExecuteAsync($"SET SESSION auto_increment_increment = 3, auto_increment_offset = {galeraOffset.ToString(CultureInfo.InvariantCulture)}");
        }

        for (var t = 0; t < TransactionsPerWriter; t++)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            try
            {
                for (var e = random.Next(1, 4); e > 0; e--)
                {
                    await EditAsync(connection, transaction, random);
                }

                // Held open while the other writers commit: its feed ids become visible after higher ones.
                await Task.Delay(random.Next(0, 120));
                if (random.Next(10) == 0)
                {
                    await transaction.RollbackAsync();
                }
                else
                {
                    await transaction.CommitAsync();
                }
            }
            catch (MySqlException ex) when (ex.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout or MySqlErrorCode.DuplicateKeyEntry)
            {
                await transaction.RollbackAsync();
            }
        }
    }

    private static async Task EditAsync(MySqlConnection connection, MySqlTransaction transaction, Random random)
    {
        Task<int> Run(string sql, object? parameters = null) => connection.ExecuteAsync(sql, parameters, transaction);
        T Pick<T>(T[] from) => from[random.Next(from.Length)];
        var accountId = random.Next(1, 11); // 9 and 10 do not exist unless inserted

        switch (random.Next(100))
        {
            case < 18:
                await Run(
                    "INSERT INTO ip_map (name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status) VALUES (@Name, @Ip, @AccountId, 0, 0, @Profile, @Prefix, @Context, @Status)",
                    new { Name = "r" + random.Next(1000), Ip = Pick(Ips), AccountId = accountId, Profile = Pick(ProfileIds), Prefix = Pick(Prefixes), Context = Pick(Contexts), Status = random.Next(5) == 0 ? 1 : 0 });
                break;
            case < 24:
                await Run("UPDATE ip_map SET ip = @Ip WHERE id = (SELECT id FROM (SELECT id FROM ip_map ORDER BY RAND() LIMIT 1) x)", new { Ip = Pick(Ips) });
                break;
            case < 29:
                await Run("UPDATE ip_map SET prefix = @Prefix WHERE id = (SELECT id FROM (SELECT id FROM ip_map ORDER BY RAND() LIMIT 1) x)", new { Prefix = Pick(Prefixes) });
                break;
            case < 34:
                await Run("UPDATE ip_map SET status = 1 - status WHERE id = (SELECT id FROM (SELECT id FROM ip_map ORDER BY RAND() LIMIT 1) x)");
                break;
            case < 38:
                await Run("UPDATE ip_map SET sip_profile_id = @Profile WHERE id = (SELECT id FROM (SELECT id FROM ip_map ORDER BY RAND() LIMIT 1) x)", new { Profile = Pick(ProfileIds) });
                break;
            case < 42:
                await Run("UPDATE ip_map SET accountid = @AccountId, context = @Context WHERE id = (SELECT id FROM (SELECT id FROM ip_map ORDER BY RAND() LIMIT 1) x)", new { AccountId = accountId, Context = Pick(Contexts) });
                break;
            case < 47:
                await Run("DELETE FROM ip_map WHERE id = (SELECT id FROM (SELECT id FROM ip_map ORDER BY RAND() LIMIT 1) x)");
                break;
            case < 52:
                await Run("UPDATE accounts SET status = 1 - status WHERE id = @Id", new { Id = accountId });
                break;
            case < 55:
                await Run("UPDATE accounts SET deleted = 1 - deleted WHERE id = @Id", new { Id = accountId });
                break;
            case < 58:
                await Run("UPDATE accounts SET sip_credentials_disabled = 1 - sip_credentials_disabled WHERE id = @Id", new { Id = accountId });
                break;
            case < 60:
                await Run("UPDATE accounts SET number = @Number WHERE id = @Id", new { Id = accountId, Number = Pick(AccountNumbers) });
                break;
            case < 62:
                // Not read by the service: the trigger leaves no feed row, and nothing may change.
                await Run("UPDATE accounts SET first_name = @Name WHERE id = @Id", new { Id = accountId, Name = "n" + random.Next(100) });
                break;
            case < 64:
                await Run(random.Next(2) == 0
                    ? "INSERT IGNORE INTO accounts (id, number, reseller_id, pricelist_id, status, type, deleted) VALUES (@Id, @Number, 0, 1, 0, 0, 0)"
                    : "DELETE FROM accounts WHERE id = @Id AND id > 8", new { Id = random.Next(9, 11), Number = "10000000" + random.Next(10, 99) });
                break;
            case < 72:
                await Run(
                    "INSERT INTO sip_devices (username, accountid, reseller_id, dir_params, dir_vars, status) VALUES (@Username, @AccountId, 0, @Params, @Vars, @Status)",
                    new { Username = Pick(Usernames), AccountId = accountId, Params = Pick(DirParams), Vars = random.Next(4) == 0 ? "{\"user_context\":\"ctx\"}" : "{}", Status = random.Next(5) == 0 ? 1 : 0 });
                break;
            case < 77:
                await Run("UPDATE sip_devices SET username = @Username WHERE id = (SELECT id FROM (SELECT id FROM sip_devices ORDER BY RAND() LIMIT 1) x)", new { Username = Pick(Usernames) });
                break;
            case < 81:
                await Run("UPDATE sip_devices SET dir_params = @Params, status = @Status WHERE id = (SELECT id FROM (SELECT id FROM sip_devices ORDER BY RAND() LIMIT 1) x)", new { Params = Pick(DirParams), Status = random.Next(4) == 0 ? 1 : 0 });
                break;
            case < 84:
                await Run("UPDATE sip_devices SET accountid = @AccountId WHERE id = (SELECT id FROM (SELECT id FROM sip_devices ORDER BY RAND() LIMIT 1) x)", new { AccountId = accountId });
                break;
            case < 88:
                await Run("DELETE FROM sip_devices WHERE id = (SELECT id FROM (SELECT id FROM sip_devices ORDER BY RAND() LIMIT 1) x)");
                break;
            case < 92:
                await Run("UPDATE sip_profiles SET status = 1 - status WHERE id = @Id", new { Id = random.Next(2, 4) });
                break;
            case < 94:
                await Run("UPDATE sip_profiles SET name = @Name WHERE id = 2", new { Name = Pick(ProfileNames) });
                break;
            case < 96:
                await Run("UPDATE gateways SET status = 1 - status; INSERT INTO gateways (sip_profile_id, name, gateway_data, status) VALUES (2, @Name, '{}', 0)", new { Name = "gw" + random.Next(100) });
                break;
            case < 98:
                await Run("UPDATE `system` SET value = @Value WHERE name = 'ip_auth_default_sip_profile'", new { Value = Pick(DefaultSettings) });
                break;
            default:
                await Run("UPDATE sip_profiles SET status = 1 - status WHERE id = 1");
                break;
        }
    }
}
