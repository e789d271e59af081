using System.Data.Common;
using Dapper;

namespace FsDirectory.Admin;

/// <summary>SQL for <c>fsdir_trusted_proxies</c> as the admin API reads and writes it. Writes run inside the caller's transaction.</summary>
public sealed class TrustedProxiesStore
{
    private const string Select = """
        SELECT id AS Id, name AS Name, ip AS Ip, sip_profile_id AS SipProfileId, status AS Status
        FROM fsdir_trusted_proxies
        """;

    private const string ListSql = Select + " ORDER BY id";

    public async Task<IReadOnlyList<TrustedProxySetting>> ListAsync(DbConnection connection, CancellationToken ct) =>
        (await connection.QueryAsync<TrustedProxySetting>(new CommandDefinition(ListSql, cancellationToken: ct))).AsList();

    private const string GetSql = Select + " WHERE id = @id";
    private const string GetForUpdateSql = GetSql + " FOR UPDATE";

    public async Task<TrustedProxySetting?> GetAsync(DbConnection connection, DbTransaction? transaction, int id, bool forUpdate, CancellationToken ct) =>
        await connection.QuerySingleOrDefaultAsync<TrustedProxySetting>(
            new CommandDefinition(forUpdate ? GetForUpdateSql : GetSql, new { id }, transaction, cancellationToken: ct));

    // FOR UPDATE on the (sip_profile_id, ip) key also locks the gap, so a concurrent insert for the same profile waits for this transaction.
    private const string SameProfileSql = "SELECT id AS Id, ip AS Ip FROM fsdir_trusted_proxies WHERE sip_profile_id = @sipProfileId FOR UPDATE";

    public async Task<IReadOnlyList<(int Id, string Ip)>> SameProfileAsync(DbConnection connection, DbTransaction transaction, int sipProfileId, CancellationToken ct) =>
        (await connection.QueryAsync<(int, string)>(new CommandDefinition(SameProfileSql, new { sipProfileId }, transaction, cancellationToken: ct))).AsList();

    private const string InsertSql = """
        INSERT INTO fsdir_trusted_proxies (name, ip, sip_profile_id, status, created_date, last_modified_date)
        VALUES (@Name, @Ip, @SipProfileId, @Status, UTC_TIMESTAMP(), UTC_TIMESTAMP());
        SELECT LAST_INSERT_ID();
        """;

    public async Task<int> InsertAsync(DbConnection connection, DbTransaction transaction, TrustedProxyValues values, CancellationToken ct) =>
        await connection.ExecuteScalarAsync<int>(new CommandDefinition(InsertSql, values, transaction, cancellationToken: ct));

    private const string UpdateSql = """
        UPDATE fsdir_trusted_proxies SET name = @Name, ip = @Ip, sip_profile_id = @SipProfileId, status = @Status, last_modified_date = UTC_TIMESTAMP()
        WHERE id = @Id
        """;

    public async Task UpdateAsync(DbConnection connection, DbTransaction transaction, int id, TrustedProxyValues values, CancellationToken ct) =>
        await connection.ExecuteAsync(new CommandDefinition(UpdateSql, new { Id = id, values.Name, values.Ip, values.SipProfileId, values.Status }, transaction, cancellationToken: ct));

    private const string DeleteSql = "DELETE FROM fsdir_trusted_proxies WHERE id = @id";

    public async Task<int> DeleteAsync(DbConnection connection, DbTransaction transaction, int id, CancellationToken ct) =>
        await connection.ExecuteAsync(new CommandDefinition(DeleteSql, new { id }, transaction, cancellationToken: ct));
}

/// <summary>A <c>fsdir_trusted_proxies</c> row as the admin API shows it.</summary>
public sealed record TrustedProxySetting
{
    public int Id { get; init; }
    public string Name { get; init; } = string.Empty;
    public string Ip { get; init; } = string.Empty;

    /// <summary>0: trusted on every profile.</summary>
    public int SipProfileId { get; init; }
    public int Status { get; init; }

    /// <summary>Why the served snapshot cannot use the row (a row written around the API); null when it is used or inactive.</summary>
    public string? Problem { get; init; }
}

/// <summary>Create/replace body. Nullable so that a missing field is told apart from 0.</summary>
public sealed record TrustedProxyInput
{
    public string? Name { get; init; }
    public string? Ip { get; init; }

    /// <summary>0 or omitted: trusted on every profile.</summary>
    public int? SipProfileId { get; init; }
    public int? Status { get; init; }
}

/// <summary>Validated, canonical values ready to be written.</summary>
public sealed record TrustedProxyValues
{
    public required string Name { get; init; }
    public required string Ip { get; init; }
    public required int SipProfileId { get; init; }
    public required int Status { get; init; }
}
