using System.Data;
using Dapper;
using FsDirectory.ChangeFeed;
using MySqlConnector;

using FsDirectory.Snapshots;

namespace FsDirectory.Database;

/// <summary>How row changes are detected.</summary>
public enum ChangeDetection
{
    /// <summary>Triggers from sql/migrations/007 write each changed row to fsdir_change_feed; polled cheaply.</summary>
    Triggers,

    /// <summary>No (complete set of) feed triggers: CHECKSUM TABLE over the watched tables, polled less often.</summary>
    Checksum,
}

/// <summary>One row of <c>fsdir_change_feed</c>: a row of a watched table that was inserted (I), updated (U) or deleted (D).</summary>
public sealed record FeedRow
{
    public long Id { get; init; }
    public string TableName { get; init; } = string.Empty;
    public long RowId { get; init; }
    public string Kind { get; init; } = string.Empty;
}

/// <summary>Reads ASTPP's tables. The only SQL on the FreeSWITCH path, and it runs in the background, never per request.</summary>
public sealed class DirectoryStore(DatabaseConnector database)
{
    public const string DefaultProfileSettingName = "ip_auth_default_sip_profile";

    // What the rules and the devices are built from (profiles, gateways, system and trusted proxies are
    // small and always read; the rules do not depend on the proxies).
    private static readonly string[] RuleTables = [DirectoryTables.Accounts, DirectoryTables.IpMap, DirectoryTables.SipProfiles, DirectoryTables.System];
    private static readonly string[] DeviceTables = [DirectoryTables.Accounts, DirectoryTables.SipDevices];

    private static readonly string[] TriggerEvents = ["INSERT", "UPDATE", "DELETE"];

    private const string FeedTriggersSql = """
        SELECT EVENT_OBJECT_TABLE AS TableName, EVENT_MANIPULATION AS Event FROM information_schema.TRIGGERS
        WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME LIKE 'fsdir\_%' AND ACTION_STATEMENT LIKE '%fsdir\_change\_feed%'
        """;

    // The same tables as the feed watches: a table added there is checksummed too.
    private static readonly string ChecksumSql = $"CHECKSUM TABLE {string.Join(", ", DirectoryTables.Watched.Select(static t => $"`{t}`"))}";

    private const string AccountColumns = """
        SELECT id AS Id, number AS Number, reseller_id AS ResellerId, pricelist_id AS PricelistId, type AS Type,
               status AS Status, deleted AS Deleted, sip_credentials_disabled AS SipCredentialsDisabled,
               maxchannels AS MaxChannels, cps AS Cps
        FROM accounts
        """;

    private const string AccountsSql = $"{AccountColumns} ORDER BY id";
    private const string AccountsByIdSql = $"{AccountColumns} WHERE id IN @Ids";

    private const string IpMapColumns = """
        SELECT id AS Id, name AS Name, ip AS Ip, accountid AS AccountId, reseller_id AS ResellerId,
               pricelist_id AS PricelistId, sip_profile_id AS SipProfileId, prefix AS Prefix, context AS Context,
               status AS Status
        FROM ip_map
        """;

    private const string IpMapSql = $"{IpMapColumns} ORDER BY id";
    private const string IpMapByIdSql = $"{IpMapColumns} WHERE id IN @Ids";
    private const string IpMapByAccountSql = $"{IpMapColumns} WHERE accountid = @Id ORDER BY id LIMIT @Limit";
    private const string IpMapByProfileSql = $"{IpMapColumns} WHERE sip_profile_id = @Id ORDER BY id LIMIT @Limit";

    private const string DeviceColumns = """
        SELECT id AS Id, username AS Username, accountid AS AccountId, reseller_id AS ResellerId,
               dir_params AS DirParams, dir_vars AS DirVars, status AS Status
        FROM sip_devices
        """;

    private const string DevicesSql = $"{DeviceColumns} ORDER BY id";
    private const string DevicesByIdSql = $"{DeviceColumns} WHERE id IN @Ids";
    private const string DevicesByAccountSql = $"{DeviceColumns} WHERE accountid = @Id ORDER BY id";
    private const string DevicesByUsernameSql = $"{DeviceColumns} WHERE username IN @Names";

    private const string ProfilesSql = """
        SELECT id AS Id, name AS Name, sip_ip AS SipIp, sip_port AS SipPort, profile_data AS ProfileData, status AS Status,
               fsdir_ip_auth_mode AS IpAuthMode
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

    // The oldest remaining id tells whether rows this reader never saw were trimmed (the trim always keeps the newest row).
    private const string FeedPollSql = """
        SELECT MIN(id) FROM fsdir_change_feed;
        SELECT id AS Id, table_name AS TableName, row_id AS RowId, change_kind AS Kind
        FROM fsdir_change_feed WHERE id > @After ORDER BY id LIMIT @Limit;
        """;

    private const string FeedPageSql = """
        SELECT id AS Id, table_name AS TableName, row_id AS RowId, change_kind AS Kind
        FROM fsdir_change_feed WHERE id > @After ORDER BY id LIMIT @Limit
        """;

    private const string FeedHighWaterSql = "SELECT COALESCE(MAX(id), 0) FROM fsdir_change_feed";

    private const string FeedRecentIdsSql = """
        SELECT id FROM fsdir_change_feed WHERE changed_at >= NOW(6) - INTERVAL @WindowMicroseconds MICROSECOND
        ORDER BY id DESC LIMIT 100000
        """;

    private const string FeedTrimSql = """
        DELETE FROM fsdir_change_feed WHERE id < @KeepFrom AND changed_at < NOW(6) - INTERVAL @RetentionSeconds SECOND LIMIT 5000
        """;

    private const int FeedTrimBatch = 5000;

    /// <summary>Feed rows read per query; a poll pages through more.</summary>
    public const int FeedPageSize = 10_000;

    /// <summary>Triggers mode needs an insert, update and delete trigger writing the feed on every watched table.</summary>
    public Task<(ChangeDetection Mode, IReadOnlyList<string> Missing)> DetectChangeModeAsync(int timeoutSeconds, CancellationToken cancellationToken) =>
        database.RunAsync(connection => DetectChangeModeAsync(connection, timeoutSeconds, cancellationToken), cancellationToken);

    private static async Task<(ChangeDetection Mode, IReadOnlyList<string> Missing)> DetectChangeModeAsync(MySqlConnection connection, int timeoutSeconds, CancellationToken cancellationToken)
    {
        var found = (await connection.QueryAsync<(string TableName, string Event)>(new CommandDefinition(FeedTriggersSql, commandTimeout: timeoutSeconds, cancellationToken: cancellationToken)))
            .Select(static t => $"{t.TableName} {t.Event}".ToUpperInvariant())
            .ToHashSet(StringComparer.Ordinal);
        var missing = DirectoryTables.Watched
            .SelectMany(static table => TriggerEvents.Select(e => $"{table} {e}"))
            .Where(t => !found.Contains(t.ToUpperInvariant()))
            .ToList();
        return (missing.Count == 0 ? ChangeDetection.Triggers : ChangeDetection.Checksum, missing);
    }

    public Task<string> ReadChecksumTokenAsync(int timeoutSeconds, CancellationToken cancellationToken) =>
        database.RunAsync(connection => ReadChecksumTokenAsync(connection, null, timeoutSeconds, cancellationToken), cancellationToken);

    /// <summary>
    /// Reads the tables in one REPEATABLE READ transaction, so a snapshot never mixes rows from before
    /// and after a concurrent edit, and the change token or feed position read first can only
    /// under-state the data (changes already in it are then seen again, and applying them again is
    /// harmless). <paramref name="build"/> runs inside the transaction: <c>ip_map</c>, the one table
    /// that reaches millions of rows, is streamed into it row by row instead of being held in memory
    /// as a whole beside the snapshot being built. Rules or devices are left out (null) when none of
    /// their tables is in <paramref name="changed"/> (null: everything), or, in checksum mode, when
    /// none moved since <paramref name="previousToken"/>: a device edit does not re-read a million IP rules.
    /// With the change feed, a load of every table reads the feed position with the tables; a load of
    /// some tables must be given the <paramref name="position"/> of the feed rows it picks up, because a
    /// position read now would also count changes to the tables it does not read as applied.
    /// </summary>
    public Task<T> LoadAsync<T>(
        ChangeDetection mode, int timeoutSeconds, string? previousToken, IReadOnlySet<string>? changed,
        FeedClock? feed, FeedPosition? position, Func<SnapshotData, T> build, CancellationToken cancellationToken) =>
        database.RunAsync(connection => LoadAsync(connection, mode, timeoutSeconds, previousToken, changed, feed, position, build, cancellationToken), cancellationToken);

    private static async Task<T> LoadAsync<T>(
        MySqlConnection connection, ChangeDetection mode, int timeoutSeconds, string? previousToken, IReadOnlySet<string>? changed,
        FeedClock? feed, FeedPosition? position, Func<SnapshotData, T> build, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        string token;
        if (mode == ChangeDetection.Triggers)
        {
            if (changed is not null && position is null)
            {
                throw new ArgumentException("a load of some tables needs the feed position of the changes it picks up", nameof(position));
            }

            position ??= await ReadFeedPositionAsync(connection, transaction, timeoutSeconds, feed ?? throw new ArgumentNullException(nameof(feed)), cancellationToken);
            token = position.ToString();
        }
        else
        {
            position = null;
            token = await ReadChecksumTokenAsync(connection, transaction, timeoutSeconds, cancellationToken);
            changed ??= previousToken is null ? null : ChangedTables(previousToken, token);
        }

        CommandDefinition Command(string sql, object? parameters = null, CommandFlags flags = CommandFlags.Buffered) =>
            new(sql, parameters, transaction, timeoutSeconds, flags: flags, cancellationToken: cancellationToken);

        async Task<List<TRow>> Query<TRow>(string sql, object? parameters = null) =>
            (await connection.QueryAsync<TRow>(Command(sql, parameters))).AsList();

        var data = new SnapshotData
        {
            ChangeToken = token,
            FeedPosition = position,
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
    /// Runs <paramref name="work"/> in one REPEATABLE READ transaction: the feed rows and the rows they
    /// name are read as of one moment. Feed polls get <paramref name="pollTimeoutSeconds"/> (a hung
    /// server is noticed quickly), row reads <paramref name="timeoutSeconds"/>.
    /// </summary>
    public Task<T> InTransactionAsync<T>(int pollTimeoutSeconds, int timeoutSeconds, Func<Reads, Task<T>> work, CancellationToken cancellationToken) =>
        database.RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, isReadOnly: true, cancellationToken);
            var result = await work(new Reads(connection, transaction, pollTimeoutSeconds, timeoutSeconds, cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            return result;
        }, cancellationToken);

    /// <summary>
    /// Deletes feed rows older than <paramref name="retention"/>, a bounded batch at a time, always
    /// keeping the newest row (so a reader can tell trimmed ids from ids that never existed). Safe
    /// from any number of instances at once.
    /// </summary>
    public Task<int> TrimFeedAsync(TimeSpan retention, int timeoutSeconds, CancellationToken cancellationToken) =>
        database.RunAsync(connection => TrimFeedAsync(connection, retention, timeoutSeconds, cancellationToken), cancellationToken);

    private static async Task<int> TrimFeedAsync(MySqlConnection connection, TimeSpan retention, int timeoutSeconds, CancellationToken cancellationToken)
    {
        var keepFrom = await connection.ExecuteScalarAsync<long>(new CommandDefinition(FeedHighWaterSql, commandTimeout: timeoutSeconds, cancellationToken: cancellationToken));
        // No pause between batches: the feed is read every poll, and an hour of it is small.
        return await BatchTrimmer.InBatchesAsync(() => connection.ExecuteAsync(new CommandDefinition(FeedTrimSql,
                new { KeepFrom = keepFrom, RetentionSeconds = (long)retention.TotalSeconds }, commandTimeout: timeoutSeconds, cancellationToken: cancellationToken)),
            FeedTrimBatch, TimeSpan.Zero, TimeProvider.System, cancellationToken);
    }

    /// <summary>
    /// The tables whose entry differs between two change tokens ("schema.table=checksum;..." from
    /// CHECKSUM TABLE). A token that cannot be compared counts as everything changed.
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

    private static async Task<string> ReadChecksumTokenAsync(MySqlConnection connection, MySqlTransaction? transaction, int timeoutSeconds, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync(new CommandDefinition(ChecksumSql, transaction: transaction, commandTimeout: timeoutSeconds, cancellationToken: cancellationToken));
        return string.Join(';', rows.Select(r => string.Join('=', ((IDictionary<string, object?>)r).Values)));
    }

    private static async Task<FeedPosition> ReadFeedPositionAsync(MySqlConnection connection, MySqlTransaction transaction, int timeoutSeconds, FeedClock clock, CancellationToken cancellationToken)
    {
        var highWater = await connection.ExecuteScalarAsync<long>(new CommandDefinition(FeedHighWaterSql, transaction: transaction, commandTimeout: timeoutSeconds, cancellationToken: cancellationToken));
        var recent = (await connection.QueryAsync<long>(new CommandDefinition(FeedRecentIdsSql,
            new { WindowMicroseconds = (long)(clock.LateCommitWindow.TotalMilliseconds * 1000) }, transaction, timeoutSeconds, cancellationToken: cancellationToken))).ToList();
        recent.Reverse();
        return FeedPosition.AfterFullLoad(highWater, recent, clock.Now);
    }

    /// <summary>
    /// Ids in IN lists of a few fixed lengths (the last id repeated to fill), so that Dapper, which
    /// caches a plan per distinct SQL text, sees four texts rather than one per list length.
    /// </summary>
    private static IEnumerable<T[]> InBatches<T>(IReadOnlyCollection<T> values)
    {
        const int largest = 512;
        var list = values.Distinct().ToList();
        for (var start = 0; start < list.Count; start += largest)
        {
            var count = Math.Min(largest, list.Count - start);
            var size = count <= 1 ? 1 : count <= 8 ? 8 : count <= 64 ? 64 : largest;
            var batch = new T[size];
            for (var i = 0; i < size; i++)
            {
                batch[i] = list[start + Math.Min(i, count - 1)];
            }

            yield return batch;
        }
    }

    /// <summary>The reads of one transaction: feed pages, and the rows a batch of changes names.</summary>
    public sealed class Reads(MySqlConnection connection, MySqlTransaction transaction, int pollTimeoutSeconds, int timeoutSeconds, CancellationToken cancellationToken)
    {
        private CommandDefinition Command(string sql, object? parameters = null, int? timeout = null) =>
            new(sql, parameters, transaction, timeout ?? timeoutSeconds, cancellationToken: cancellationToken);

        /// <summary>The oldest feed id still stored (null: empty feed) and the first page above <paramref name="after"/>.</summary>
        public async Task<(long? OldestId, List<FeedRow> Rows)> FeedAsync(long after, int limit)
        {
            await using var results = await connection.QueryMultipleAsync(Command(FeedPollSql, new { After = after, Limit = limit }, pollTimeoutSeconds));
            var oldest = await results.ReadSingleAsync<long?>();
            return (oldest, (await results.ReadAsync<FeedRow>()).AsList());
        }

        public async Task<List<FeedRow>> FeedPageAsync(long after, int limit) =>
            (await connection.QueryAsync<FeedRow>(Command(FeedPageSql, new { After = after, Limit = limit }, pollTimeoutSeconds))).AsList();

        public Task<List<AccountRow>> AccountsAsync(IReadOnlyCollection<int> ids) => ByIds<AccountRow>(AccountsByIdSql, ids);

        public Task<List<IpMapRow>> RulesAsync(IReadOnlyCollection<int> ids) => ByIds<IpMapRow>(IpMapByIdSql, ids);

        /// <summary>At most <paramref name="limit"/> rules of an account (more means: rebuild instead).</summary>
        public Task<List<IpMapRow>> RulesOfAccountAsync(int accountId, int limit) => List<IpMapRow>(IpMapByAccountSql, new { Id = accountId, Limit = limit });

        /// <summary>At most <paramref name="limit"/> rules bound to a profile (no index: a scan of ip_map, only when a profile changes).</summary>
        public Task<List<IpMapRow>> RulesOfProfileAsync(int sipProfileId, int limit) => List<IpMapRow>(IpMapByProfileSql, new { Id = sipProfileId, Limit = limit });

        public Task<List<SipDeviceRow>> DevicesAsync(IReadOnlyCollection<int> ids) => ByIds<SipDeviceRow>(DevicesByIdSql, ids);

        public Task<List<SipDeviceRow>> DevicesOfAccountAsync(int accountId) => List<SipDeviceRow>(DevicesByAccountSql, new { Id = accountId });

        /// <summary>Every device row whose username equals one of <paramref name="usernames"/> in the column's collation (a superset of the exact matches).</summary>
        public async Task<List<SipDeviceRow>> DevicesNamedAsync(IReadOnlyCollection<string> usernames)
        {
            var rows = new List<SipDeviceRow>();
            foreach (var batch in InBatches(usernames))
            {
                rows.AddRange(await connection.QueryAsync<SipDeviceRow>(Command(DevicesByUsernameSql, new { Names = batch })));
            }

            return rows;
        }

        /// <summary>The small tables, read whole: profiles, gateways, the default-profile setting and the trusted proxies.</summary>
        public async Task<ProfileState> ProfileStateAsync() =>
            ProfileState.Build(await List<SipProfileRow>(ProfilesSql), await List<GatewayRow>(GatewaysSql),
                (await List<string?>(DefaultProfileSql, new { Name = DefaultProfileSettingName })).FirstOrDefault(),
                await List<TrustedProxyRow>(TrustedProxiesSql));

        public Task<List<AccountRow>> AllAccountsAsync() => List<AccountRow>(AccountsSql);

        /// <summary>Every ip_map row in id order, streamed (a million rows are never held at once).</summary>
        public IAsyncEnumerable<IpMapRow> AllRules() => connection.QueryUnbufferedAsync<IpMapRow>(IpMapSql, transaction: transaction, commandTimeout: timeoutSeconds);

        /// <summary>Every sip_devices row in id order, streamed.</summary>
        public IAsyncEnumerable<SipDeviceRow> AllDevices() => connection.QueryUnbufferedAsync<SipDeviceRow>(DevicesSql, transaction: transaction, commandTimeout: timeoutSeconds);

        private async Task<List<TRow>> ByIds<TRow>(string sql, IReadOnlyCollection<int> ids)
        {
            var rows = new List<TRow>();
            foreach (var batch in InBatches(ids))
            {
                rows.AddRange(await connection.QueryAsync<TRow>(Command(sql, new { Ids = batch })));
            }

            return rows;
        }

        private async Task<List<TRow>> List<TRow>(string sql, object? parameters = null) =>
            (await connection.QueryAsync<TRow>(Command(sql, parameters))).AsList();
    }
}

/// <summary>The late-commit window and the current time (in <see cref="TimeProvider"/> timestamps) that open feed gaps are stamped with.</summary>
public sealed record FeedClock(TimeSpan LateCommitWindow, long Now);
