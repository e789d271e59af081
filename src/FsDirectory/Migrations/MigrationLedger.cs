using Dapper;
using MySqlConnector;

namespace FsDirectory.Migrations;

/// <summary>A row of fsdir_schema_migrations.</summary>
public sealed record LedgerRow
{
    public const string Applied = "applied";
    public const string Applying = "applying";

    public string Name { get; init; } = "";
    public string Checksum { get; init; } = "";
    public string State { get; init; } = "";
    public string ClaimedBy { get; init; } = "";
    public string DbUser { get; init; } = "";
    public long Beat { get; init; }
    public DateTime ClaimedAt { get; init; }
    public DateTime? AppliedAt { get; init; }
    public long? DurationMs { get; init; }
}

/// <summary>
/// fsdir_schema_migrations: one row per SQL file, which is also the claim that makes two
/// concurrent runs apply each file once.
/// </summary>
/// <remarks>
/// Why a row and not GET_LOCK: on a Galera cluster GET_LOCK is local to the node that grants it, so
/// two hosts on two nodes would both get "the" lock. A row under a primary key is the one thing
/// every node agrees on: a run claims a file by inserting its row as 'applying' in a transaction of
/// its own (autocommit). On one server the second insert fails with a duplicate key; on Galera two
/// inserts on two nodes both pass locally and certification lets exactly one commit (the other gets
/// a deadlock error, 1213). Either way the loser re-reads the row and waits until it says 'applied'.
/// The winner applies the file and marks the row 'applied'; a failure deletes the claim, so a later
/// run retries (the files are re-runnable). A run that dies leaves 'applying' behind: while it
/// lives it bumps <c>beat</c> every <see cref="HeartbeatInterval"/>, so a waiter that sees the beat
/// stand still for its claim timeout knows the claim is orphaned and tells the operator how to clear
/// it, rather than taking it over (the applier may be alive behind a partition, mid-ALTER).
/// </remarks>
public sealed class MigrationLedger(MySqlConnection connection)
{
    public const string Table = "fsdir_schema_migrations";

    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

    /// <summary>A waiter gives up on a claim no sooner than this: three missed beats, not one late one.</summary>
    public static readonly TimeSpan MinimumClaimTimeout = TimeSpan.FromSeconds(3);

    // Ledger statements are small: a budget keeps a hung node from hanging the command.
    private const int CommandTimeoutSeconds = 30;

    public const string CreateTableSql =
        """
        CREATE TABLE IF NOT EXISTS `fsdir_schema_migrations` (
          `name` varchar(191) NOT NULL COMMENT 'schema.sql or migrations/<file>, under the SQL folder',
          `checksum` char(64) NOT NULL COMMENT 'SHA-256 of the file, hex',
          `state` varchar(10) NOT NULL COMMENT 'applying: claimed by a run; applied: done',
          `claimed_by` varchar(255) NOT NULL DEFAULT '' COMMENT 'user@host, process and run of the applier',
          `db_user` varchar(255) NOT NULL DEFAULT '' COMMENT 'CURRENT_USER() of the applier',
          `beat` bigint NOT NULL DEFAULT '0' COMMENT 'bumped by the applier every second while it applies',
          `claimed_at` timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
          `applied_at` timestamp(6) NULL DEFAULT NULL,
          `duration_ms` bigint DEFAULT NULL,
          PRIMARY KEY (`name`)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
        """;

    private const string ExistsSql =
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'fsdir_schema_migrations'";

    private const string Columns =
        "`name` AS Name, `checksum` AS Checksum, `state` AS State, `claimed_by` AS ClaimedBy, `db_user` AS DbUser, `beat` AS Beat, " +
        "`claimed_at` AS ClaimedAt, `applied_at` AS AppliedAt, `duration_ms` AS DurationMs";

    private const string ReadAllSql = "SELECT " + Columns + " FROM `fsdir_schema_migrations` ORDER BY `name`";

    private const string ReadOneSql = "SELECT " + Columns + " FROM `fsdir_schema_migrations` WHERE `name` = @Name";

    private const string ClaimSql =
        "INSERT INTO `fsdir_schema_migrations` (`name`, `checksum`, `state`, `claimed_by`, `db_user`) VALUES (@Name, @Checksum, 'applying', @ClaimedBy, CURRENT_USER())";

    private const string BeatSql =
        "UPDATE `fsdir_schema_migrations` SET `beat` = `beat` + 1 WHERE `name` = @Name AND `state` = 'applying' AND `claimed_by` = @ClaimedBy";

    private const string CompleteSql =
        "UPDATE `fsdir_schema_migrations` SET `state` = 'applied', `applied_at` = CURRENT_TIMESTAMP(6), `duration_ms` = @DurationMs " +
        "WHERE `name` = @Name AND `state` = 'applying' AND `claimed_by` = @ClaimedBy";

    private const string ReleaseSql =
        "DELETE FROM `fsdir_schema_migrations` WHERE `name` = @Name AND `state` = 'applying' AND `claimed_by` = @ClaimedBy";

    public async Task<bool> ExistsAsync(CancellationToken ct) =>
        await connection.ExecuteScalarAsync<long>(Command(ExistsSql, null, ct)) > 0;

    public Task CreateAsync(CancellationToken ct) => connection.ExecuteAsync(Command(CreateTableSql, null, ct));

    public async Task<IReadOnlyDictionary<string, LedgerRow>> ReadAllAsync(CancellationToken ct) =>
        (await connection.QueryAsync<LedgerRow>(Command(ReadAllSql, null, ct))).ToDictionary(static r => r.Name, StringComparer.Ordinal);

    public Task<LedgerRow?> ReadAsync(string name, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<LedgerRow>(Command(ReadOneSql, new { Name = name }, ct));

    /// <summary>True when this run now owns the file; false when another run's row is there (or won certification).</summary>
    public async Task<bool> TryClaimAsync(MigrationFile file, string claimedBy, CancellationToken ct)
    {
        try
        {
            await connection.ExecuteAsync(Command(ClaimSql, new { file.Name, file.Checksum, ClaimedBy = claimedBy }, ct));
            return true;
        }
        catch (MySqlException ex) when (ex.ErrorCode is MySqlErrorCode.DuplicateKeyEntry or MySqlErrorCode.LockDeadlock)
        {
            return false;
        }
    }

    public Task BeatAsync(string name, string claimedBy, CancellationToken ct) =>
        connection.ExecuteAsync(Command(BeatSql, new { Name = name, ClaimedBy = claimedBy }, ct));

    public async Task CompleteAsync(string name, string claimedBy, long durationMs, CancellationToken ct)
    {
        var updated = await connection.ExecuteAsync(Command(CompleteSql, new { Name = name, ClaimedBy = claimedBy, DurationMs = durationMs }, ct));
        if (updated != 1)
        {
            throw new MigrationException(
                $"{name} was applied, but its claim was gone when it was to be marked applied (cleared by hand while it ran?). " +
                "Run migrate again: the files are re-runnable.");
        }
    }

    public Task ReleaseAsync(string name, string claimedBy, CancellationToken ct) =>
        connection.ExecuteAsync(Command(ReleaseSql, new { Name = name, ClaimedBy = claimedBy }, ct));

    private static CommandDefinition Command(string sql, object? parameters, CancellationToken ct) =>
        new(sql, parameters, commandTimeout: CommandTimeoutSeconds, cancellationToken: ct);
}
