using FsDirectory.Collections;
using FsDirectory.Database;
using FsDirectory.Directory;
using FsDirectory.IpAuth;
using FsDirectory.Metrics;
using FsDirectory.Snapshots;
using Microsoft.Extensions.Options;

namespace FsDirectory.ChangeFeed;

/// <summary>The outcome of one self-check: match, mismatch or skipped, and the first differences found.</summary>
public sealed record SelfCheckResult(string Outcome, long? Version, int DifferenceCount, IReadOnlyList<string> Differences, string? Why = null)
{
    public const string Match = "match";
    public const string Mismatch = "mismatch";
    public const string Skipped = "skipped";
    public const string Failed = "failed";
}

/// <summary>
/// Proves, periodically, that the snapshot maintained from row changes equals what a full rebuild
/// would make of the tables: every rule and its problem, every device and its problem, the username
/// map, the rule index's slots, the accounts and the profiles (acl.conf and sofia.conf are built from
/// those alone). It streams the tables in one transaction and checks each row with the same
/// <see cref="RowChecks"/> as a build, against the live snapshot, without building a second snapshot
/// (at a million rules that would double the memory). Rows changed after the snapshot's feed position
/// are still being applied, so they and what depends on them are left out of that round. A difference
/// is logged, counted in /metrics and repaired by a full rebuild.
/// </summary>
public sealed partial class SnapshotSelfCheck(
    DirectoryStore store,
    SnapshotHolder holder,
    SnapshotReloader reloader,
    IOptionsMonitor<ChangeFeedOptions> options,
    IOptionsMonitor<DatabaseOptions> database,
    FsDirectoryMetrics metrics,
    TimeProvider time,
    ILogger<SnapshotSelfCheck> logger) : BackgroundService
{
    private const int DifferencesKept = 20;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var interval = options.CurrentValue.SelfCheckInterval;
            try
            {
                await Task.Delay(interval == TimeSpan.Zero ? TimeSpan.FromMinutes(1) : interval, time, stoppingToken);
                if (interval != TimeSpan.Zero && options.CurrentValue.SelfCheckInterval != TimeSpan.Zero)
                {
                    await CheckAndRepairAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                metrics.SelfChecks.WithLabels(SelfCheckResult.Failed).Inc();
                LogFailed(ex.GetType().Name, ex.Message);
            }
        }
    }

    /// <summary>Checks the live snapshot and, on a difference, rebuilds it from the tables.</summary>
    public async Task<SelfCheckResult> CheckAndRepairAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var result = await CheckAsync(cancellationToken);
        metrics.SelfChecks.WithLabels(result.Outcome).Inc();
        switch (result.Outcome)
        {
            case SelfCheckResult.Mismatch:
                metrics.SelfCheckDifferences.Inc(result.DifferenceCount);
                LogMismatch(result.Version, result.DifferenceCount, string.Join("; ", result.Differences));
                await reloader.RebuildAsync(RebuildReason.SelfCheck, $"self-check found {result.DifferenceCount} differences", cancellationToken);
                break;
            case SelfCheckResult.Skipped:
                LogSkipped(result.Why ?? string.Empty);
                break;
            default:
                LogMatch(result.Version, time.GetElapsedTime(started).TotalMilliseconds);
                break;
        }

        return result;
    }

    /// <summary>Compares the live snapshot with the tables; changes nothing.</summary>
    public async Task<SelfCheckResult> CheckAsync(CancellationToken cancellationToken)
    {
        var snapshot = holder.Current;
        if (snapshot?.FeedPosition is not { } position)
        {
            return new SelfCheckResult(SelfCheckResult.Skipped, snapshot?.Version, 0, [], "changes are not read from the change feed");
        }

        return await store.InTransactionAsync(database.CurrentValue.PollTimeoutSeconds, database.CurrentValue.LoadTimeoutSeconds,
            reads => new Comparison(snapshot, position, reads).RunAsync(), cancellationToken);
    }

    /// <summary>One comparison, inside one transaction.</summary>
    private sealed class Comparison(Snapshot snapshot, FeedPosition position, DirectoryStore.Reads reads)
    {
        private readonly List<string> _differences = [];
        private readonly HashSet<int> _accountsInFlux = [];
        private readonly HashSet<int> _rulesInFlux = [];
        private readonly HashSet<int> _devicesInFlux = [];
        private readonly HashSet<string> _usernamesInFlux = new(StringComparer.OrdinalIgnoreCase);
        private int _count;

        public async Task<SelfCheckResult> RunAsync()
        {
            if (await FindChangesInFluxAsync() is { } why)
            {
                return new SelfCheckResult(SelfCheckResult.Skipped, snapshot.Version, 0, [], why);
            }

            var accounts = await CompareAccountsAsync();
            var profiles = await reads.ProfileStateAsync();
            if (!profiles.SameAs(snapshot.ProfileState))
            {
                Differ("profiles, gateways or the default profile setting differ");
            }

            var checks = new RowChecks(accounts, profiles, snapshot.RoutingContext);
            await CompareRulesAsync(checks);
            CompareIndex();
            await CompareDevicesAsync(checks);
            return new SelfCheckResult(_count == 0 ? SelfCheckResult.Match : SelfCheckResult.Mismatch, snapshot.Version, _count, _differences);
        }

        /// <summary>Rows changed after the snapshot's position, and what depends on them, are left out; a profile change skips the round.</summary>
        private async Task<string?> FindChangesInFluxAsync()
        {
            var (_, rows) = await reads.FeedAsync(position.ReadAfter, DirectoryStore.FeedPageSize);
            var page = rows;
            while (page.Count == DirectoryStore.FeedPageSize && rows.Count < SnapshotPatcher.MaxRowsPerPatch)
            {
                page = await reads.FeedPageAsync(page[^1].Id, DirectoryStore.FeedPageSize);
                rows.AddRange(page);
            }

            if (page.Count == DirectoryStore.FeedPageSize)
            {
                return "a large batch of changes is being applied";
            }

            var changing = FeedBatch.Of(rows.Where(r => !position.Knows(r.Id)));
            if (changing.ProfileTables || changing.UnknownTable is not null)
            {
                return $"{changing.UnknownTable ?? "a profile table"} is changing";
            }

            _accountsInFlux.UnionWith(changing.Accounts);
            _rulesInFlux.UnionWith(changing.Rules);
            _devicesInFlux.UnionWith(changing.Devices);

            // A device that changes, or whose account does, may change who holds its username.
            foreach (var device in snapshot.DevicesById)
            {
                if (_devicesInFlux.Contains(device.Id) || _accountsInFlux.Contains(device.AccountId))
                {
                    _usernamesInFlux.Add(device.Username);
                }
            }

            foreach (var row in await reads.DevicesAsync(_devicesInFlux))
            {
                _usernamesInFlux.Add(row.Username ?? string.Empty);
            }

            foreach (var accountId in _accountsInFlux)
            {
                foreach (var row in await reads.DevicesOfAccountAsync(accountId))
                {
                    _usernamesInFlux.Add(row.Username ?? string.Empty);
                }
            }

            return null;
        }

        private async Task<IdCollection<AccountRow>> CompareAccountsAsync()
        {
            var table = IdCollection<AccountRow>.Empty.ToBuilder();
            var seen = new HashSet<int>();
            foreach (var row in await reads.AllAccountsAsync())
            {
                table.Set(row.Id, row);
                seen.Add(row.Id);
                if (!_accountsInFlux.Contains(row.Id) && !Equals(snapshot.Accounts.Find(row.Id), row))
                {
                    Differ($"accounts {row.Id}: the snapshot has {Describe(snapshot.Accounts.Find(row.Id))}, the table {Describe(row)}");
                }
            }

            foreach (var (id, row) in snapshot.Accounts.Entries.Where(a => !seen.Contains(a.Key) && !_accountsInFlux.Contains(a.Key)))
            {
                Differ($"accounts {id}: the snapshot has {Describe(row)}, the table has no such row");
            }

            // Accounts in flux are checked against as the table has them now; the rows depending on them are left out.
            return table.ToTable();
        }

        private async Task CompareRulesAsync(RowChecks checks)
        {
            using var rules = snapshot.UsableRules.Walk((_, rule) => RuleWithoutRow(rule));
            using var problems = snapshot.RuleProblems.Walk((id, _) => ProblemWithoutRow(DirectoryTables.IpMap, id, _rulesInFlux));
            await foreach (var row in reads.AllRules())
            {
                var held = rules.Take(row.Id);
                var heldProblem = problems.Take(row.Id);
                if (_rulesInFlux.Contains(row.Id) || _accountsInFlux.Contains(row.AccountId) || (held is not null && _accountsInFlux.Contains(held.AccountId)))
                {
                    continue;
                }

                var (rule, problem) = checks.Rule(row);
                if (!Equals(rule, held))
                {
                    Differ($"ip_map {row.Id}: the snapshot has {Describe(held)}, the table gives {Describe(rule)}");
                }

                if (problem != heldProblem)
                {
                    Differ($"ip_map {row.Id}: the snapshot lists problem '{heldProblem}', the table gives '{problem}'");
                }
            }

            rules.Finish();
            problems.Finish();
        }

        private void RuleWithoutRow(IpRule rule)
        {
            if (!_rulesInFlux.Contains(rule.Id) && !_accountsInFlux.Contains(rule.AccountId))
            {
                Differ($"ip_map {rule.Id}: the snapshot has {Describe(rule)}, the table has no such row");
            }
        }

        private void ProblemWithoutRow(string table, int id, HashSet<int> inFlux)
        {
            if (!inFlux.Contains(id))
            {
                Differ($"{table} {id}: the snapshot lists a problem, the table has no such row");
            }
        }

        /// <summary>Every usable rule sits in the slot of its own network, and the index holds exactly the usable rules.</summary>
        private void CompareIndex()
        {
            var slots = 0;
            foreach (var (slot, rule) in snapshot.Rules.Slots())
            {
                slots++;
                if (slot != rule.Network || !ReferenceEquals(snapshot.UsableRules.Find(rule.Id), rule))
                {
                    Differ($"index: rule {rule.Id} ({rule.Network}) is filed under {slot} or is not the snapshot's rule {rule.Id}");
                }
            }

            if (slots != snapshot.UsableRules.Count || snapshot.Rules.Count != slots)
            {
                Differ($"index: {slots} rules in slots, count {snapshot.Rules.Count}, {snapshot.UsableRules.Count} usable rules");
            }

            // acl.conf's buckets: each network and profile as often as the index holds rules with them,
            // and as many entries as usable rules, so they hold exactly the usable rules' networks.
            var entries = 0;
            foreach (var group in snapshot.AclInputs.BucketEntries.Concat(snapshot.AclInputs.Wide).GroupBy(static e => e))
            {
                var (network, profile) = group.Key;
                var count = group.Count();
                entries += count;
                if (snapshot.Rules.RulesAt(network).Count(r => r.Profile == profile) != count)
                {
                    Differ($"acl.conf: {network} for profile {profile ?? "*"} is there {count} times, the rules say otherwise");
                }
            }

            if (entries != snapshot.UsableRules.Count)
            {
                Differ($"acl.conf: {entries} networks for {snapshot.UsableRules.Count} usable rules");
            }
        }

        private async Task CompareDevicesAsync(RowChecks checks)
        {
            var strings = new StringPool();
            var holders = new HashSet<string>(StringComparer.Ordinal);
            using var devices = snapshot.DevicesById.Walk((_, device) => DeviceWithoutRow(device));
            using var problems = snapshot.DeviceProblems.Walk((id, _) => ProblemWithoutRow(DirectoryTables.SipDevices, id, _devicesInFlux));
            await foreach (var row in reads.AllDevices())
            {
                var held = devices.Take(row.Id);
                var heldProblem = problems.Take(row.Id);

                // Rows are in id order: the first one passing every check takes its username.
                var (device, problem) = checks.Device(row, strings);
                if (device is not null && !holders.Add(device.Username))
                {
                    problem = RowChecks.DuplicateUsername(device.Username);
                device = null;
                }

                if (_devicesInFlux.Contains(row.Id) || _accountsInFlux.Contains(row.AccountId) || _usernamesInFlux.Contains(row.Username ?? string.Empty))
                {
                    continue;
                }

                if (device is null ? held is not null : held is null || !held.SameAs(device))
                {
                    Differ($"sip_devices {row.Id}: the snapshot {(held is null ? "has no device" : $"has device '{held.Username}'")}, the table gives {(device is null ? "none" : $"device '{device.Username}'")}");
                }

                if (problem != heldProblem)
                {
                    Differ($"sip_devices {row.Id}: the snapshot lists problem '{heldProblem}', the table gives '{problem}'");
                }

                if (held is not null && (!snapshot.Devices.TryGetValue(held.Username, out var byName) || !ReferenceEquals(byName, held)))
                {
                    Differ($"sip_devices {row.Id}: username '{held.Username}' does not find this device");
                }
            }

            devices.Finish();
            problems.Finish();

            if (snapshot.Devices.Count != snapshot.DevicesById.Count)
            {
                Differ($"devices: {snapshot.Devices.Count} by username, {snapshot.DevicesById.Count} by id");
            }
        }

        private void DeviceWithoutRow(Device device)
        {
            if (!_devicesInFlux.Contains(device.Id) && !_accountsInFlux.Contains(device.AccountId))
            {
                Differ($"sip_devices {device.Id}: the snapshot has device '{device.Username}', the table has no such row");
            }
        }

        private void Differ(string difference)
        {
            _count++;
            if (_differences.Count < DifferencesKept)
            {
                _differences.Add(difference);
            }
        }

        // Never a password or hash: rules and accounts only carry ids, networks, prefixes and codes.
        private static string Describe(IpRule? rule) => rule is null ? "no usable rule" : $"rule {rule.Network} prefix '{rule.Prefix}' account {rule.AccountCode} profile {rule.Profile ?? "*"} context {rule.Context}";

        private static string Describe(AccountRow? row) => row is null ? "no row" : $"number {row.Number} status {row.Status} deleted {row.Deleted} ip-only {row.SipCredentialsDisabled} maxchannels {row.MaxChannels} cps {row.Cps}";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Self-check: snapshot {Version} equals the tables (checked in {Milliseconds:F0} ms)")]
    private partial void LogMatch(long? version, double milliseconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Self-check: snapshot {Version} differs from the tables in {Count} places, rebuilding it in full: {Differences}")]
    private partial void LogMismatch(long? version, int count, string differences);

    [LoggerMessage(Level = LogLevel.Information, Message = "Self-check skipped: {Why}")]
    private partial void LogSkipped(string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Self-check failed ({Error}: {Message}); trying again at the next interval")]
    private partial void LogFailed(string error, string message);
}
