using System.Data;
using Dapper;
using MySqlConnector;

namespace FsDirectory.Data;

/// <summary>How row changes are detected.</summary>
public enum ChangeDetection
{
    /// <summary>Triggers from sql/migrations/004 bump fsdir_change_version; polled cheaply.</summary>
    Triggers,

    /// <summary>No triggers: CHECKSUM TABLE over the watched tables, polled less often.</summary>
    Checksum,
}

/// <summary>Reads ASTPP's tables. The only SQL on the FreeSWITCH path, and it runs in the background, never per request.</summary>
public sealed class DirectoryStore(DatabaseConnector database)
{
    public const string DefaultProfileSettingName = "ip_auth_default_sip_profile";
    private const int ExpectedTriggerCount = 21;

    // What the rules and the devices are built from (profiles, gateways, system and trusted proxies are
    // small and always read; the rules do not depend on the proxies).
    private static readonly string[] RuleTables = ["accounts", "ip_map", "sip_profiles", "system"];
    private static readonly string[] DeviceTables = ["accounts", "sip_devices"];

    private const string TriggerCountSql = """
        SELECT COUNT(*) FROM information_schema.TRIGGERS
        WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME LIKE 'fsdir\_%'
        """;

    private const string VersionSql = "SELECT table_name, version FROM fsdir_change_version ORDER BY table_name";

    private const string ChecksumSql = "CHECKSUM TABLE accounts, ip_map, sip_devices, sip_profiles, gateways, `system`, fsdir_trusted_proxies";

    private const string AccountsSql = """
        SELECT id AS Id, number AS Number, reseller_id AS ResellerId, pricelist_id AS PricelistId, type AS Type,
               status AS Status, deleted AS Deleted, sip_credentials_disabled AS SipCredentialsDisabled
        FROM accounts
        """;

    private const string IpMapSql = """
        SELECT id AS Id, name AS Name, ip AS Ip, accountid AS AccountId, reseller_id AS ResellerId,
               pricelist_id AS PricelistId, sip_profile_id AS SipProfileId, prefix AS Prefix, context AS Context,
               status AS Status
        FROM ip_map
        ORDER BY id
        """;

    private const string DevicesSql = """
        SELECT id AS Id, username AS Username, accountid AS AccountId, reseller_id AS ResellerId,
               dir_params AS DirParams, dir_vars AS DirVars, status AS Status
        FROM sip_devices
        """;

    private const string ProfilesSql = """
        SELECT id AS Id, name AS Name, sip_ip AS SipIp, sip_port AS SipPort, profile_data AS ProfileData, status AS Status
        FROM sip_profiles
        """;

    private const string GatewaysSql = """
        SELECT id AS Id, name AS Name, sip_profile_id AS SipProfileId, gateway_data AS GatewayData, status AS Status
        FROM gateways
        """;

    private const string TrustedProxiesSql = """
        SELECT id AS Id, name AS Name, ip AS Ip, sip_profile_id AS SipProfileId, status AS Status
        FROM fsdir_trusted_proxies
        """;

    private const string DefaultProfileSql = """
        SELECT value FROM `system` WHERE name = @Name AND reseller_id = 0 ORDER BY id LIMIT 1
        """;

    public Task<ChangeDetection> DetectChangeModeAsync(int timeoutSeconds, CancellationToken cancellationToken) =>
        database.RunAsync(async connection =>
        {
            var triggers = await connection.ExecuteScalarAsync<long>(new CommandDefinition(TriggerCountSql, commandTimeout: timeoutSeconds, cancellationToken: cancellationToken));
            return triggers >= ExpectedTriggerCount ? ChangeDetection.Triggers : ChangeDetection.Checksum;
        }, cancellationToken);

    public Task<string> ReadChangeTokenAsync(ChangeDetection mode, int timeoutSeconds, CancellationToken cancellationToken) =>
        database.RunAsync(connection => ReadChangeTokenAsync(connection, null, mode, timeoutSeconds, cancellationToken), cancellationToken);

    /// <summary>
    /// Reads every table in one REPEATABLE READ transaction, so a snapshot never mixes rows from before
    /// and after a concurrent edit, and the change token read first can only under-state the data
    /// (a later poll then sees a newer token and reloads). <paramref name="build"/> runs inside the
    /// transaction: <c>ip_map</c>, the one table that reaches millions of rows, is streamed into it
    /// row by row instead of being held in memory as a whole beside the snapshot being built.
    /// Given the <paramref name="previousToken"/>, the rules or the devices are left out (null) when
    /// none of their tables changed: a device edit does not re-read a million IP rules.
    /// </summary>
    public Task<T> LoadAsync<T>(ChangeDetection mode, int timeoutSeconds, string? previousToken, Func<SnapshotData, T> build, CancellationToken cancellationToken) =>
        database.RunAsync(connection => LoadAsync(connection, mode, timeoutSeconds, previousToken, build, cancellationToken), cancellationToken);

    private static async Task<T> LoadAsync<T>(MySqlConnection connection, ChangeDetection mode, int timeoutSeconds, string? previousToken, Func<SnapshotData, T> build, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var token = await ReadChangeTokenAsync(connection, transaction, mode, timeoutSeconds, cancellationToken);
        var changed = previousToken is null ? null : ChangedTables(previousToken, token);

        CommandDefinition Command(string sql, object? parameters = null, CommandFlags flags = CommandFlags.Buffered) =>
            new(sql, parameters, transaction, timeoutSeconds, flags: flags, cancellationToken: cancellationToken);

        async Task<List<TRow>> Query<TRow>(string sql, object? parameters = null) =>
            (await connection.QueryAsync<TRow>(Command(sql, parameters))).AsList();

        var data = new SnapshotData
        {
            ChangeToken = token,
            ChangedTables = changed,
            Accounts = await Query<AccountRow>(AccountsSql),
            Devices = changed is null || changed.Overlaps(DeviceTables) ? await Query<SipDeviceRow>(DevicesSql) : null,
            Profiles = await Query<SipProfileRow>(ProfilesSql),
            Gateways = await Query<GatewayRow>(GatewaysSql),
            DefaultSipProfileSetting = (await Query<string?>(DefaultProfileSql, new { Name = DefaultProfileSettingName })).FirstOrDefault(),
            TrustedProxies = await Query<TrustedProxyRow>(TrustedProxiesSql),

            // Unbuffered, so it is read (synchronously, on the reload loop, never on a request) while the
            // builder consumes it; it must come last because a connection holds one open reader.
            IpRules = changed is null || changed.Overlaps(RuleTables) ? connection.Query<IpMapRow>(Command(IpMapSql, flags: CommandFlags.None)) : null,
        };
        var result = build(data);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>
    /// The tables whose entry differs between two change tokens ("table=version;..." or, from
    /// CHECKSUM TABLE, "schema.table=checksum;..."). A token that cannot be compared counts as
    /// everything changed.
    /// </summary>
    public static IReadOnlySet<string>? ChangedTables(string previousToken, string token)
    {
        var before = ParseToken(previousToken);
        var after = ParseToken(token);
        if (before is null || after is null)
        {
            return null;
        }

        var changed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in before.Keys.Union(after.Keys))
        {
            if (!before.TryGetValue(table, out var a) || !after.TryGetValue(table, out var b) || a != b)
            {
                changed.Add(table);
            }
        }

        return changed;
    }

    private static Dictionary<string, string>? ParseToken(string token)
    {
        var tables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in token.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                return null;
            }

            var table = entry[..equals];
            tables[table[(table.LastIndexOf('.') + 1)..]] = entry[(equals + 1)..];
        }

        return tables;
    }

    private static async Task<string> ReadChangeTokenAsync(MySqlConnection connection, MySqlTransaction? transaction, ChangeDetection mode, int timeoutSeconds, CancellationToken cancellationToken)
    {
        var sql = mode == ChangeDetection.Triggers ? VersionSql : ChecksumSql;
        var rows = await connection.QueryAsync(new CommandDefinition(sql, transaction: transaction, commandTimeout: timeoutSeconds, cancellationToken: cancellationToken));
        return string.Join(';', rows.Select(r => string.Join('=', ((IDictionary<string, object?>)r).Values)));
    }
}
