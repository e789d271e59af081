using Dapper;
using MySqlConnector;

namespace FsDirectory.Cluster;

/// <summary>
/// SQL for the lease row and the instance rows (sql/migrations/005). Each statement is a single
/// autocommit statement: on Galera a conflicting one fails certification (or is retried by the
/// node and then matches no row), so a conditional UPDATE that reports one row is the whole proof
/// of success.
/// </summary>
public sealed class ClusterStore
{
    public const string LeaseName = "esl_push";

    private const string ReadLeaseSql = "SELECT holder AS Holder, term AS Term, beat AS Beat FROM fsdir_lease WHERE name = @Name";

    private const string CreateLeaseSql = "INSERT IGNORE INTO fsdir_lease (name) VALUES (@Name)";

    private const string RenewSql = """
        UPDATE fsdir_lease SET beat = beat + 1, renewed_at = CURRENT_TIMESTAMP(6)
        WHERE name = @Name AND holder = @Me AND term = @Term
        """;

    private const string TakeOverSql = """
        UPDATE fsdir_lease SET holder = @Me, term = term + 1, beat = beat + 1,
                               acquired_at = CURRENT_TIMESTAMP(6), renewed_at = CURRENT_TIMESTAMP(6)
        WHERE name = @Name AND term = @Term AND beat = @Beat
        """;

    private const string ReleaseSql = """
        UPDATE fsdir_lease SET holder = NULL, term = term + 1, beat = beat + 1
        WHERE name = @Name AND holder = @Me AND term = @Term
        """;

    private const string PublishSql = """
        INSERT INTO fsdir_instances (instance_id, address, database_node, snapshot_version, served_digest, beat, started_at, seen_at)
        VALUES (@InstanceId, @Address, @DatabaseNode, @SnapshotVersion, @ServedDigest, 1, CURRENT_TIMESTAMP(6), CURRENT_TIMESTAMP(6))
        ON DUPLICATE KEY UPDATE address = VALUES(address), database_node = VALUES(database_node),
            snapshot_version = VALUES(snapshot_version), served_digest = VALUES(served_digest),
            beat = beat + 1, seen_at = CURRENT_TIMESTAMP(6)
        """;

    // The row's age is computed by the database, on one clock (the node's that answers): the reader
    // never compares a timestamp with its own clock (ClusterCoordinator.Observe says what a skew between
    // Galera nodes can do to it).
    private const string ReadInstancesSql = """
        SELECT instance_id AS InstanceId, address AS Address, database_node AS DatabaseNode,
               snapshot_version AS SnapshotVersion, served_digest AS ServedDigest, beat AS Beat,
               TIMESTAMPDIFF(MICROSECOND, seen_at, CURRENT_TIMESTAMP(6)) AS AgeMicroseconds
        FROM fsdir_instances ORDER BY instance_id
        """;

    private const string RemoveSql = "DELETE FROM fsdir_instances WHERE instance_id = @InstanceId";

    // A crashed instance leaves its row behind. A day is far beyond any clock difference between
    // the database nodes that wrote and compare these timestamps.
    private const string ForgetStaleSql = "DELETE FROM fsdir_instances WHERE seen_at < CURRENT_TIMESTAMP(6) - INTERVAL 1 DAY LIMIT 100";

    public async Task<LeaseRow> ReadLeaseAsync(MySqlConnection connection, CancellationToken ct)
    {
        var row = await connection.QuerySingleOrDefaultAsync<LeaseRow>(Command(ReadLeaseSql, new { Name = LeaseName }, ct));
        if (row is not null)
        {
            return row;
        }

        // Someone deleted the row the migration inserted: recreate it (free) rather than never electing anyone.
        await connection.ExecuteAsync(Command(CreateLeaseSql, new { Name = LeaseName }, ct));
        return await connection.QuerySingleAsync<LeaseRow>(Command(ReadLeaseSql, new { Name = LeaseName }, ct));
    }

    public async Task<bool> RenewAsync(MySqlConnection connection, string me, long term, CancellationToken ct) =>
        await connection.ExecuteAsync(Command(RenewSql, new { Name = LeaseName, Me = me, Term = term }, ct)) == 1;

    public async Task<bool> TakeOverAsync(MySqlConnection connection, string me, LeaseRow seen, CancellationToken ct) =>
        await connection.ExecuteAsync(Command(TakeOverSql, new { Name = LeaseName, Me = me, seen.Term, seen.Beat }, ct)) == 1;

    public async Task ReleaseAsync(MySqlConnection connection, string me, long term, CancellationToken ct) =>
        await connection.ExecuteAsync(Command(ReleaseSql, new { Name = LeaseName, Me = me, Term = term }, ct));

    public async Task PublishAsync(MySqlConnection connection, InstanceRow row, CancellationToken ct) =>
        await connection.ExecuteAsync(Command(PublishSql, row, ct));

    public async Task<IReadOnlyList<InstanceRow>> ReadInstancesAsync(MySqlConnection connection, CancellationToken ct) =>
        (await connection.QueryAsync<InstanceRow>(Command(ReadInstancesSql, null, ct))).AsList();

    public async Task RemoveAsync(MySqlConnection connection, string instanceId, CancellationToken ct) =>
        await connection.ExecuteAsync(Command(RemoveSql, new { InstanceId = instanceId }, ct));

    public async Task ForgetStaleAsync(MySqlConnection connection, CancellationToken ct) =>
        await connection.ExecuteAsync(Command(ForgetStaleSql, null, ct));

    // Every statement here is tiny: a node that cannot answer one within this budget is treated as failed.
    private static CommandDefinition Command(string sql, object? parameters, CancellationToken ct) =>
        new(sql, parameters, commandTimeout: 2, cancellationToken: ct);
}

public sealed record LeaseRow
{
    public string? Holder { get; init; }
    public long Term { get; init; }
    public long Beat { get; init; }
}

public sealed record InstanceRow
{
    public required string InstanceId { get; init; }
    public string Address { get; init; } = string.Empty;
    public string DatabaseNode { get; init; } = string.Empty;
    public long SnapshotVersion { get; init; }
    public string ServedDigest { get; init; } = string.Empty;
    public long Beat { get; init; }

    /// <summary>How long before the read the row was last written, on the database's clock (negative if the writer's node runs ahead).</summary>
    public long AgeMicroseconds { get; init; }
}
