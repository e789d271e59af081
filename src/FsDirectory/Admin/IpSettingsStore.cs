using System.Data.Common;
using Dapper;

namespace FsDirectory.Admin;

/// <summary>SQL for <c>ip_map</c> as the admin API writes it. Every method runs inside the caller's transaction.</summary>
public sealed class IpSettingsStore
{
    // Reseller scope and filters are NULL-able parameters, so the SQL text stays constant (Dapper caches per text).
    private const string Select = """
        SELECT m.id AS Id, m.name AS Name, m.ip AS Ip, m.accountid AS AccountId, a.number AS AccountNumber,
               COALESCE(a.reseller_id, 0) AS ResellerId, m.sip_profile_id AS SipProfileId, m.prefix AS Prefix,
               m.context AS Context, m.status AS Status
        FROM ip_map m LEFT JOIN accounts a ON a.id = m.accountid
        """;

    private const string Visible = "(@scope IS NULL OR (a.id IS NOT NULL AND COALESCE(a.reseller_id, 0) = @scope))";

    private const string ListFilter = " WHERE " + Visible + """

          AND (@accountId IS NULL OR m.accountid = @accountId)
          AND (@resellerId IS NULL OR COALESCE(a.reseller_id, 0) = @resellerId)
          AND (@sipProfileId IS NULL OR m.sip_profile_id = @sipProfileId)
          AND (@status IS NULL OR m.status = @status)
          AND (@q IS NULL OR m.name LIKE @q ESCAPE '!' OR m.ip LIKE @q ESCAPE '!' OR m.prefix LIKE @q ESCAPE '!')
        """;

    private const string ListSql = Select + ListFilter + " ORDER BY m.id LIMIT @limit OFFSET @offset";
    private const string CountSql = "SELECT COUNT(*) FROM ip_map m LEFT JOIN accounts a ON a.id = m.accountid" + ListFilter;

    public async Task<(IReadOnlyList<IpSetting> Items, long Total)> ListAsync(
        DbConnection connection, AdminCaller caller, ListQuery query, int page, int pageSize, CancellationToken ct)
    {
        var parameters = new
        {
            scope = caller.ResellerId,
            accountId = query.AccountId,
            resellerId = query.ResellerId,
            sipProfileId = query.SipProfileId,
            status = query.Status,
            q = string.IsNullOrEmpty(query.Q) ? null : "%" + EscapeLike(query.Q) + "%",
            limit = pageSize,
            offset = (long)(page - 1) * pageSize,
        };
        var items = await connection.QueryAsync<IpSetting>(new CommandDefinition(ListSql, parameters, cancellationToken: ct));
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountSql, parameters, cancellationToken: ct));
        return (items.AsList(), total);
    }

    /// <summary>LIKE wildcards in the user's text are literal: '!' is the escape character.</summary>
    public static string EscapeLike(string text) =>
        text.Replace("!", "!!", StringComparison.Ordinal).Replace("%", "!%", StringComparison.Ordinal).Replace("_", "!_", StringComparison.Ordinal);

    private const string GetSql = Select + " WHERE m.id = @id AND " + Visible;
    private const string GetForUpdateSql = GetSql + " FOR UPDATE";

    public async Task<IpSetting?> GetAsync(DbConnection connection, DbTransaction? transaction, AdminCaller caller, int id, bool forUpdate, CancellationToken ct) =>
        await connection.QuerySingleOrDefaultAsync<IpSetting>(
            new CommandDefinition(forUpdate ? GetForUpdateSql : GetSql, new { id, scope = caller.ResellerId }, transaction, cancellationToken: ct));

    private const string ExportSql = Select + " WHERE " + Visible + " ORDER BY m.id";

    public async Task<IReadOnlyList<IpSetting>> ExportAsync(DbConnection connection, AdminCaller caller, CancellationToken ct) =>
        (await connection.QueryAsync<IpSetting>(new CommandDefinition(ExportSql, new { scope = caller.ResellerId }, cancellationToken: ct))).AsList();

    private const string VisibleIdsSql = "SELECT m.id FROM ip_map m LEFT JOIN accounts a ON a.id = m.accountid WHERE m.id IN @ids AND " + Visible + " FOR UPDATE";

    public async Task<IReadOnlyList<int>> LockVisibleAsync(DbConnection connection, DbTransaction transaction, AdminCaller caller, IReadOnlyList<int> ids, CancellationToken ct) =>
        (await connection.QueryAsync<int>(new CommandDefinition(VisibleIdsSql, new { ids, scope = caller.ResellerId }, transaction, cancellationToken: ct))).AsList();

    private const string VisibleAllIdsSql = "SELECT m.id FROM ip_map m LEFT JOIN accounts a ON a.id = m.accountid WHERE " + Visible;

    public async Task<HashSet<int>> VisibleIdsAsync(DbConnection connection, AdminCaller caller, CancellationToken ct) =>
        [.. await connection.QueryAsync<int>(new CommandDefinition(VisibleAllIdsSql, new { scope = caller.ResellerId }, cancellationToken: ct))];

    private const string AccountSql = """
        SELECT id AS Id, number AS Number, reseller_id AS ResellerId, type AS Type, status AS Status, deleted AS Deleted
        FROM accounts WHERE id = @id
        """;

    public async Task<AccountInfo?> FindAccountAsync(DbConnection connection, DbTransaction transaction, int id, CancellationToken ct) =>
        await connection.QuerySingleOrDefaultAsync<AccountInfo>(new CommandDefinition(AccountSql, new { id }, transaction, cancellationToken: ct));

    // FOR UPDATE on the prefix index also locks the gap, so a concurrent insert of the same prefix waits for this transaction.
    private const string SamePrefixSql = "SELECT id AS Id, ip AS Ip, prefix AS Prefix FROM ip_map WHERE prefix = @prefix AND sip_profile_id = @sipProfileId FOR UPDATE";

    public async Task<IReadOnlyList<(int Id, string Ip, string Prefix)>> SamePrefixAsync(
        DbConnection connection, DbTransaction transaction, string prefix, int sipProfileId, CancellationToken ct) =>
        (await connection.QueryAsync<(int, string, string)>(new CommandDefinition(SamePrefixSql, new { prefix, sipProfileId }, transaction, cancellationToken: ct))).AsList();

    // pricelist_id 0: the rule follows its account's price list (the snapshot falls back to it).
    private const string InsertSql = """
        INSERT INTO ip_map (name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status, fsdir_rule_key, created_date, last_modified_date)
        VALUES (@Name, @Ip, @AccountId, @ResellerId, 0, @SipProfileId, @Prefix, @Context, @Status, @RuleKey, UTC_TIMESTAMP(), UTC_TIMESTAMP());
        SELECT LAST_INSERT_ID();
        """;

    public async Task<int> InsertAsync(DbConnection connection, DbTransaction transaction, IpSettingValues values, CancellationToken ct) =>
        await connection.ExecuteScalarAsync<int>(new CommandDefinition(InsertSql, values, transaction, cancellationToken: ct));

    private const string UpdateSql = """
        UPDATE ip_map SET name = @Name, ip = @Ip, accountid = @AccountId, reseller_id = @ResellerId, sip_profile_id = @SipProfileId,
                          prefix = @Prefix, context = @Context, status = @Status, fsdir_rule_key = @RuleKey,
                          last_modified_date = UTC_TIMESTAMP()
        WHERE id = @Id
        """;

    public async Task UpdateAsync(DbConnection connection, DbTransaction transaction, int id, IpSettingValues values, CancellationToken ct) =>
        await connection.ExecuteAsync(new CommandDefinition(UpdateSql, new
        {
            Id = id, values.Name, values.Ip, values.AccountId, values.ResellerId, values.SipProfileId, values.Prefix, values.Context, values.Status,
            values.RuleKey,
        }, transaction, cancellationToken: ct));

    private const string RuleKeySql = "SELECT id FROM ip_map WHERE fsdir_rule_key = @ruleKey";

    public async Task<int?> FindByRuleKeyAsync(DbConnection connection, DbTransaction transaction, byte[] ruleKey, CancellationToken ct) =>
        await connection.QuerySingleOrDefaultAsync<int?>(new CommandDefinition(RuleKeySql, new { ruleKey }, transaction, cancellationToken: ct));

    private const string DeleteSql = "DELETE FROM ip_map WHERE id IN @ids";

    public async Task<int> DeleteAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<int> ids, CancellationToken ct) =>
        await connection.ExecuteAsync(new CommandDefinition(DeleteSql, new { ids }, transaction, cancellationToken: ct));

    private const string StatusSql = "UPDATE ip_map SET status = @status, last_modified_date = UTC_TIMESTAMP() WHERE id IN @ids";

    public async Task<int> SetStatusAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<int> ids, int status, CancellationToken ct) =>
        await connection.ExecuteAsync(new CommandDefinition(StatusSql, new { ids, status }, transaction, cancellationToken: ct));
}

public sealed record AccountInfo
{
    public int Id { get; init; }
    public string? Number { get; init; }
    public int? ResellerId { get; init; }
    public int? Type { get; init; }
    public int Status { get; init; }
    public int Deleted { get; init; }
}

/// <summary>Validated, canonical values ready to be written.</summary>
public sealed record IpSettingValues
{
    public required string Name { get; init; }
    public required string Ip { get; init; }
    public required int AccountId { get; init; }
    public required int ResellerId { get; init; }
    public required int SipProfileId { get; init; }
    public required string Prefix { get; init; }
    public required string Context { get; init; }
    public required int Status { get; init; }

    /// <summary>ip_map.fsdir_rule_key (sql/migrations/005): what may not repeat, compared byte for byte (prefixes are case-sensitive).</summary>
    public byte[] RuleKey => System.Text.Encoding.UTF8.GetBytes($"{Ip}|{Prefix}|{SipProfileId}");
}
