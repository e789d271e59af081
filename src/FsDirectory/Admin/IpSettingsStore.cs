using System.Collections.Frozen;
using System.Data.Common;
using Dapper;

namespace FsDirectory.Admin;

/// <summary>SQL for <c>ip_map</c> as the admin API writes it. Every method runs inside the caller's transaction.</summary>
public sealed class IpSettingsStore
{
    /// <summary>An account's display name as the seed product shows it: the company, else the person.</summary>
    public const string AccountNameSql = "COALESCE(NULLIF(TRIM(a.company_name), ''), NULLIF(TRIM(CONCAT_WS(' ', a.first_name, a.last_name)), ''))";

    private const string ResellerNameSql = "COALESCE(NULLIF(TRIM(r.company_name), ''), NULLIF(TRIM(CONCAT_WS(' ', r.first_name, r.last_name)), ''), r.number)";

    private const string RuleColumns = """
        m.id AS Id, m.name AS Name, m.ip AS Ip, m.accountid AS AccountId, a.number AS AccountNumber,
        COALESCE(a.reseller_id, 0) AS ResellerId, m.sip_profile_id AS SipProfileId, m.prefix AS Prefix,
        m.context AS Context, m.status AS Status
        """;

    // Reseller scope and filters are NULL-able parameters, so the SQL text stays constant (Dapper caches per text).
    private const string Select = "SELECT " + RuleColumns + ", " + AccountNameSql + " AS AccountName, " + ResellerNameSql + " AS ResellerName"
        + " FROM ip_map m LEFT JOIN accounts a ON a.id = m.accountid LEFT JOIN accounts r ON r.id = a.reseller_id";

    // A locking read takes the rule and its account only (FOR UPDATE locks every joined row).
    private const string SelectForUpdate = "SELECT " + RuleColumns + " FROM ip_map m LEFT JOIN accounts a ON a.id = m.accountid";

    /// <summary>The rules (ip_map m LEFT JOIN accounts a) a caller with reseller scope @scope may see; NULL scope sees all.</summary>
    internal const string Visible = "(@scope IS NULL OR (a.id IS NOT NULL AND COALESCE(a.reseller_id, 0) = @scope))";

    private const string ListFilter = " WHERE " + Visible + """

          AND (@accountId IS NULL OR m.accountid = @accountId)
          AND (@resellerId IS NULL OR COALESCE(a.reseller_id, 0) = @resellerId)
          AND (@sipProfileId IS NULL OR m.sip_profile_id = @sipProfileId)
          AND (@status IS NULL OR m.status = @status)
          AND (@q IS NULL OR m.name LIKE @q ESCAPE '!' OR m.ip LIKE @q ESCAPE '!' OR m.prefix LIKE @q ESCAPE '!')
        """;

    private const string ListFrom = " FROM ip_map m LEFT JOIN accounts a ON a.id = m.accountid" + ListFilter;
    private const string CountSql = "SELECT COUNT(*)" + ListFrom;

    // Sorting is the only part of the list that cannot be a parameter. Each sort key names a fixed
    // column expression, and the texts are built once from these constants (never from the request),
    // so there is one constant SQL text per key and direction. Ties are broken by id, so pages are stable.
    // "account" groups the rules by account id: the account index already holds that order, where sorting
    // by account number would join and sort every row.
    private static readonly (string Key, string Column)[] SortColumns =
    [
        ("id", "m.id"), ("name", "m.name"), ("ip", "INET6_ATON(SUBSTRING_INDEX(m.ip, '/', 1))"), ("prefix", "m.prefix"),
        ("context", "m.context"), ("status", "m.status"), ("account", "m.accountid"), ("reseller", "COALESCE(a.reseller_id, 0)"),
        ("profile", "m.sip_profile_id"),
    ];

    public static IReadOnlyList<string> SortKeys { get; } = [.. SortColumns.Select(c => c.Key)];

    // A page is found as ids first (the sort then moves ids, not whole rows with names joined in), and its
    // rows are read by id: at 100k rules that is what keeps a sorted page well under the 300 ms budget.
    private static readonly FrozenDictionary<string, string> PageIdsSqlBySort = SortColumns
        .SelectMany(c => new[]
        {
            KeyValuePair.Create(c.Key, $"SELECT m.id{ListFrom} ORDER BY {c.Column}{(c.Key == "id" ? string.Empty : ", m.id")} LIMIT @limit OFFSET @offset"),
            KeyValuePair.Create("-" + c.Key, $"SELECT m.id{ListFrom} ORDER BY {c.Column} DESC{(c.Key == "id" ? string.Empty : ", m.id DESC")} LIMIT @limit OFFSET @offset"),
        })
        .ToFrozenDictionary(StringComparer.Ordinal);

    public static bool IsSortable(string? sort) => string.IsNullOrEmpty(sort) || PageIdsSqlBySort.ContainsKey(sort);

    public async Task<(IReadOnlyList<IpSetting> Items, long Total)> ListAsync(
        DbConnection connection, AdminCaller caller, ListQuery query, Paging paging, CancellationToken ct)
    {
        var parameters = new
        {
            scope = caller.ResellerId,
            accountId = query.AccountId,
            resellerId = query.ResellerId,
            sipProfileId = query.SipProfileId,
            status = query.Status,
            q = string.IsNullOrEmpty(query.Q) ? null : "%" + EscapeLike(query.Q) + "%",
            limit = paging.PageSize,
            offset = paging.Offset,
        };
        var sql = PageIdsSqlBySort[string.IsNullOrEmpty(query.Sort) ? "id" : query.Sort];
        var ids = (await connection.QueryAsync<int>(new CommandDefinition(sql, parameters, cancellationToken: ct))).AsList();
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountSql, parameters, cancellationToken: ct));
        if (ids.Count == 0)
        {
            return ([], total);
        }

        var rows = (await GetManyAsync(connection, caller, ids, ct)).ToDictionary(r => r.Id);
        return ([.. ids.Where(rows.ContainsKey).Select(id => rows[id])], total);
    }

    /// <summary>LIKE wildcards in the user's text are literal: '!' is the escape character.</summary>
    public static string EscapeLike(string text) =>
        text.Replace("!", "!!", StringComparison.Ordinal).Replace("%", "!%", StringComparison.Ordinal).Replace("_", "!_", StringComparison.Ordinal);

    private const string GetSql = Select + " WHERE m.id = @id AND " + Visible;
    private const string GetForUpdateSql = SelectForUpdate + " WHERE m.id = @id AND " + Visible + " FOR UPDATE";

    public async Task<IpSetting?> GetAsync(DbConnection connection, DbTransaction? transaction, AdminCaller caller, int id, bool forUpdate, CancellationToken ct) =>
        await connection.QuerySingleOrDefaultAsync<IpSetting>(
            new CommandDefinition(forUpdate ? GetForUpdateSql : GetSql, new { id, scope = caller.ResellerId }, transaction, cancellationToken: ct));

    private const string GetManySql = Select + " WHERE m.id IN @ids AND " + Visible + " ORDER BY m.id";

    public async Task<IReadOnlyList<IpSetting>> GetManyAsync(DbConnection connection, AdminCaller caller, IReadOnlyList<int> ids, CancellationToken ct) =>
        (await connection.QueryAsync<IpSetting>(new CommandDefinition(GetManySql, new { ids, scope = caller.ResellerId }, cancellationToken: ct))).AsList();

    private const string ExportSql = Select + " WHERE " + Visible + " ORDER BY m.id";

    public async Task<IReadOnlyList<IpSetting>> ExportAsync(DbConnection connection, AdminCaller caller, CancellationToken ct) =>
        (await connection.QueryAsync<IpSetting>(new CommandDefinition(ExportSql, new { scope = caller.ResellerId }, cancellationToken: ct))).AsList();

    private const string LockVisibleSql = SelectForUpdate + " WHERE m.id IN @ids AND " + Visible + " ORDER BY m.id FOR UPDATE";

    /// <summary>The rules with these ids the caller may see, locked: what a bulk action changes, and their values before it (for the audit trail).</summary>
    public async Task<IReadOnlyList<IpSetting>> LockVisibleAsync(DbConnection connection, DbTransaction transaction, AdminCaller caller, IReadOnlyList<int> ids, CancellationToken ct) =>
        (await connection.QueryAsync<IpSetting>(new CommandDefinition(LockVisibleSql, new { ids, scope = caller.ResellerId }, transaction, cancellationToken: ct))).AsList();

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
