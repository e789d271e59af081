using System.Data.Common;
using Dapper;

namespace FsDirectory.Admin;

/// <summary>SQL for the accounts the admin API shows: customers and providers (the account types that hold IP settings and devices).</summary>
public sealed class AccountsStore
{
    private const string Columns = "a.id AS Id, a.number AS Number, " + IpSettingsStore.AccountNameSql + """
         AS Name, COALESCE(a.reseller_id, 0) AS ResellerId,
        COALESCE(a.type, 0) AS Type, a.status AS Status, a.deleted AS Deleted, a.sip_credentials_disabled AS SipCredentialsDisabled
        """;

    private const string Scope = "(@scope IS NULL OR COALESCE(a.reseller_id, 0) = @scope)";

    private const string SearchFilter = " FROM accounts a WHERE a.deleted = 0 AND COALESCE(a.type, 0) IN (0, 3) AND " + Scope + """

          AND (@q IS NULL OR a.id = @id OR a.number LIKE @prefix ESCAPE '!' OR a.company_name LIKE @q ESCAPE '!'
               OR a.first_name LIKE @q ESCAPE '!' OR a.last_name LIKE @q ESCAPE '!')
        """;

    private const string SearchSql = "SELECT " + Columns + SearchFilter + " ORDER BY a.number, a.id LIMIT @limit OFFSET @offset";
    private const string SearchCountSql = "SELECT COUNT(*)" + SearchFilter;

    public async Task<(IReadOnlyList<AccountRecord> Items, long Total)> SearchAsync(
        DbConnection connection, AdminCaller caller, string? q, Paging paging, CancellationToken ct)
    {
        var text = string.IsNullOrWhiteSpace(q) ? null : q.Trim();
        var parameters = new
        {
            scope = caller.ResellerId,
            q = text is null ? null : "%" + IpSettingsStore.EscapeLike(text) + "%",
            prefix = text is null ? null : IpSettingsStore.EscapeLike(text) + "%",
            id = int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : (int?)null,
            limit = paging.PageSize,
            offset = paging.Offset,
        };
        var items = await connection.QueryAsync<AccountRecord>(new CommandDefinition(SearchSql, parameters, cancellationToken: ct));
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(SearchCountSql, parameters, cancellationToken: ct));
        return (items.AsList(), total);
    }

    private const string ResellersSql = "SELECT " + Columns + " FROM accounts a WHERE COALESCE(a.type, 0) = 1 AND a.deleted = 0 ORDER BY a.number, a.id LIMIT 1000";

    /// <summary>Reseller accounts (type 1), for the list's reseller filter.</summary>
    public async Task<IReadOnlyList<AccountRecord>> ResellersAsync(DbConnection connection, CancellationToken ct) =>
        (await connection.QueryAsync<AccountRecord>(new CommandDefinition(ResellersSql, cancellationToken: ct))).AsList();

    private const string GetSql = "SELECT " + Columns + " FROM accounts a WHERE a.id = @id";
    private const string GetForUpdateSql = GetSql + " FOR UPDATE";

    /// <summary>The account whatever its type or scope; the service decides what the caller may see.</summary>
    public async Task<AccountRecord?> GetAsync(DbConnection connection, DbTransaction? transaction, int id, bool forUpdate, CancellationToken ct) =>
        await connection.QuerySingleOrDefaultAsync<AccountRecord>(
            new CommandDefinition(forUpdate ? GetForUpdateSql : GetSql, new { id }, transaction, cancellationToken: ct));

    private const string IpOnlySql = "UPDATE accounts SET sip_credentials_disabled = @value WHERE id = @id";

    public async Task SetIpOnlyAsync(DbConnection connection, DbTransaction transaction, int id, bool ipOnly, CancellationToken ct) =>
        await connection.ExecuteAsync(new CommandDefinition(IpOnlySql, new { id, value = ipOnly ? 1 : 0 }, transaction, cancellationToken: ct));
}

/// <summary>An <c>accounts</c> row as read for the admin API.</summary>
public sealed record AccountRecord
{
    public int Id { get; init; }
    public string? Number { get; init; }
    public string? Name { get; init; }
    public int ResellerId { get; init; }
    public int Type { get; init; }
    public int Status { get; init; }
    public int Deleted { get; init; }
    public int SipCredentialsDisabled { get; init; }
}
