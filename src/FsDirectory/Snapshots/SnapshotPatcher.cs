using FsDirectory.Acl;
using FsDirectory.ChangeFeed;
using FsDirectory.Collections;
using FsDirectory.Directory;
using FsDirectory.IpAuth;

using FsDirectory.Database;

namespace FsDirectory.Snapshots;

/// <summary>Why a batch of changes was not applied row by row, but by re-reading tables whole.</summary>
public enum RebuildReason
{
    Startup,
    DetectionChanged,
    FeedTrimmed,
    FeedStalled,
    Bulk,
    DefaultProfile,
    RoutingContext,
    UnknownTable,
    SelfCheck,
    Checksum,
    TablesChanged,
}

/// <summary>
/// The current state of every row a batch of changes touches: the accounts and profiles as they are
/// now, the ip_map and sip_devices rows to check again (null: the row is gone), and the usernames
/// whose holder must be decided again (every row sharing one of them is among the devices).
/// </summary>
public sealed record RowChanges(
    IdCollection<AccountRow> Accounts,
    ProfileState Profiles,
    IReadOnlyDictionary<int, IpMapRow?> Rules,
    IReadOnlyDictionary<int, SipDeviceRow?> Devices,
    IReadOnlySet<string> Usernames);

/// <summary>What <see cref="SnapshotPatcher"/> made of a batch: a new snapshot, or the tables to re-read whole instead.</summary>
public sealed record PatchResult(Snapshot? Snapshot, IReadOnlySet<string>? RebuildTables, RebuildReason? Reason, string? Detail, int RulesChanged, int DevicesChanged, IReadOnlyList<DataProblem> NewProblems)
{
    public static PatchResult Rebuild(IReadOnlySet<string>? tables, RebuildReason reason, string detail) => new(null, tables, reason, detail, 0, 0, []);
}

/// <summary>
/// Applies the rows named by change-feed entries to the live snapshot, copy-on-write: the new
/// snapshot shares every unchanged rule, device, index shard, table chunk and string with the old
/// one, and the old one stays intact for the requests still using it. A row is applied by
/// re-reading its current state (in the same transaction as the feed) and checking it with the same
/// <see cref="RowChecks"/> as a full build, so applying a change twice, or out of order, gives the
/// same snapshot. Rows that depend on a changed row are re-read with it: an account's rules and
/// devices, the rules of a profile whose resolution changed, and every device sharing a username
/// (the lowest id wins it).
/// </summary>
public sealed class SnapshotPatcher(TimeProvider time)
{
    /// <summary>More changed rows than this in one batch are read whole instead (as fast, and no pending-change bookkeeping for a million rows).</summary>
    public const int MaxRowsPerPatch = 100_000;

    public async Task<PatchResult> ApplyAsync(Snapshot current, IReadOnlyList<FeedRow> changes, FeedPosition position, DirectoryStore.Reads reads, Func<long> nextVersion)
    {
        var batch = FeedBatch.Of(changes);
        if (batch.UnknownTable is { } unknown)
        {
            return PatchResult.Rebuild(null, RebuildReason.UnknownTable, $"the change feed names table '{unknown}', which this version does not apply");
        }

        var (accountIds, ruleIds, deviceIds) = (batch.Accounts, batch.Rules, batch.Devices);

        // Accounts: only rows whose columns differ matter (the triggers already skip other columns).
        var accounts = current.Accounts;
        var changedAccounts = new List<int>();
        if (accountIds.Count > 0)
        {
            var rows = (await reads.AccountsAsync(accountIds)).ToDictionary(a => a.Id);
            var builder = accounts.ToBuilder();
            foreach (var id in accountIds)
            {
                var row = rows.GetValueOrDefault(id);
                var old = accounts.Find(id);
                if (!Equals(old, row))
                {
                    // A limit is read from the account row on each call: no rule or device depends on it.
                    if (old is null || row is null || old != row with { MaxChannels = old.MaxChannels, Cps = old.Cps })
                    {
                        changedAccounts.Add(id);
                    }

                    builder.Set(id, row);
                }
            }

            accounts = builder.ToTable();
        }

        var profiles = current.ProfileState;
        IReadOnlyList<int> changedResolutions = [];
        if (batch.ProfileTables)
        {
            var next = await reads.ProfileStateAsync();
            changedResolutions = profiles.ChangedResolutions(next);
            profiles = profiles.SameAs(next) ? profiles : next;
        }

        if (changedResolutions.Contains(0))
        {
            // Every rule without its own profile (usually all of them) now applies elsewhere: every
            // rule object and index slot changes, which one index build does faster than a million edits.
            var tables = new HashSet<string>(StringComparer.Ordinal) { DirectoryTables.IpMap };
            if (changedAccounts.Count > 0)
            {
                tables.Add(DirectoryTables.Accounts);
            }

            if (deviceIds.Count > 0)
            {
                tables.Add(DirectoryTables.SipDevices);
            }

            return PatchResult.Rebuild(tables, RebuildReason.DefaultProfile, "the global default SIP profile for IP rules changed");
        }

        // The ip_map rows to check again, by id (null: the row is gone).
        var ruleRows = ruleIds.ToDictionary(id => id, _ => (IpMapRow?)null);
        foreach (var row in await reads.RulesAsync(ruleIds))
        {
            ruleRows[row.Id] = row;
        }

        foreach (var accountId in changedAccounts)
        {
            foreach (var row in await reads.RulesOfAccountAsync(accountId, MaxRowsPerPatch + 1 - ruleRows.Count))
            {
                ruleRows[row.Id] = row;
            }

            if (ruleRows.Count > MaxRowsPerPatch)
            {
                return PatchResult.Rebuild(new HashSet<string> { DirectoryTables.IpMap, DirectoryTables.Accounts }, RebuildReason.Bulk, $"account {accountId} changed and has more than {MaxRowsPerPatch} IP rules");
            }
        }

        foreach (var sipProfileId in changedResolutions)
        {
            foreach (var row in await reads.RulesOfProfileAsync(sipProfileId, MaxRowsPerPatch + 1 - ruleRows.Count))
            {
                ruleRows[row.Id] = row;
            }

            if (ruleRows.Count > MaxRowsPerPatch)
            {
                return PatchResult.Rebuild(new HashSet<string> { DirectoryTables.IpMap }, RebuildReason.Bulk, $"sip profile {sipProfileId} changed and has more than {MaxRowsPerPatch} IP rules");
            }
        }

        var deviceRows = deviceIds.ToDictionary(id => id, _ => (SipDeviceRow?)null);
        foreach (var row in await reads.DevicesAsync(deviceIds))
        {
            deviceRows[row.Id] = row;
        }

        foreach (var accountId in changedAccounts)
        {
            foreach (var row in await reads.DevicesOfAccountAsync(accountId))
            {
                deviceRows[row.Id] = row;
            }
        }

        // Whoever held or takes one of these usernames: the whole group decides who has it now.
        var usernames = deviceRows.Keys.Select(id => current.DevicesById.Find(id)?.Username)
            .Concat(deviceRows.Values.Select(r => r?.Username))
            .Where(static u => !string.IsNullOrEmpty(u))
            .Select(static u => u!)
            .ToHashSet(StringComparer.Ordinal);
        if (usernames.Count > 0)
        {
            foreach (var row in await reads.DevicesNamedAsync(usernames))
            {
                deviceRows[row.Id] = row;
            }
        }

        return Apply(current, new RowChanges(accounts, profiles, ruleRows, deviceRows, usernames), position, nextVersion());
    }

    /// <summary>Applies rows already read: no I/O, so it is benchmarked and profiled on its own.</summary>
    public PatchResult Apply(Snapshot current, RowChanges changes, FeedPosition position, long version)
    {
        var checks = new RowChecks(changes.Accounts, changes.Profiles, current.RoutingContext);
        var strings = new StringPool();
        var newProblems = new List<DataProblem>();
        var (rules, ruleProblems, index, acl, rulesChanged) = ApplyRules(current, changes.Rules, checks, strings, newProblems);
        var (devices, devicesById, deviceProblems, devicesChanged) = ApplyDevices(current, changes.Devices, [.. changes.Usernames], checks, strings, newProblems);

        var snapshot = new Snapshot
        {
            Version = version,
            ChangeToken = position.ToString(),
            LoadedAt = time.GetUtcNow(),
            Devices = devices,
            Rules = index,
            UsableRules = rules,
            AclInputs = acl,
            Accounts = changes.Accounts,
            ProfileState = changes.Profiles,
            RoutingContext = current.RoutingContext,
            RuleProblems = ruleProblems,
            DevicesById = devicesById,
            DeviceProblems = deviceProblems,
            FeedPosition = position,
        };

        // acl.conf depends on the rules' networks and profiles, on the list (profile) names and modes (a
        // profile in dialplan mode has no list) and on the trusted proxies; sofia.conf on the profiles;
        // the limits preview on the accounts; anything else (digests of both) on everything.
        var sameProfiles = ReferenceEquals(changes.Profiles, current.ProfileState);
        var sameAcl = ReferenceEquals(acl, current.AclInputs)
            && (sameProfiles || (current.Profiles.Select(static p => (p.Name, p.Mode)).SequenceEqual(changes.Profiles.Profiles.Select(static p => (p.Name, p.Mode)))
                && current.Proxies.All.SequenceEqual(changes.Profiles.Proxies.All)));
        snapshot.InheritAnswers(current, key =>
            key.StartsWith("acl.conf", StringComparison.Ordinal) ? sameAcl
            : key.StartsWith("sofia.conf", StringComparison.Ordinal) ? sameProfiles
            : key.StartsWith("limits#", StringComparison.Ordinal) ? ReferenceEquals(changes.Accounts, current.Accounts)
            : sameAcl && sameProfiles);
        return new PatchResult(snapshot, null, null, null, rulesChanged, devicesChanged, newProblems);
    }

    private static (IdCollection<IpRule> Rules, IdCollection<string> Problems, IpRuleIndex Index, AclInputs Acl, int Changed) ApplyRules(
        Snapshot current, IReadOnlyDictionary<int, IpMapRow?> rows, RowChecks checks, StringPool strings, List<DataProblem> newProblems)
    {
        if (rows.Count == 0)
        {
            return (current.UsableRules, current.RuleProblems, current.Rules, current.AclInputs, 0);
        }

        var rules = current.UsableRules.ToBuilder();
        var problems = current.RuleProblems.ToBuilder();
        var index = current.Rules.Edit();
        var acl = current.AclInputs.Edit();
        var changed = 0;
        foreach (var (id, row) in rows.OrderBy(static r => r.Key))
        {
            var old = current.UsableRules.Find(id);
            var (rule, problem) = row is null ? (null, null) : checks.Rule(row);
            if (rule is not null)
            {
                rule = RowChecks.Reuse(rule, old, strings);
            }

            if (!ReferenceEquals(rule, old))
            {
                if (old is not null)
                {
                    index.Remove(old);
                    acl.Remove(old);
                }

                if (rule is not null)
                {
                    index.Add(rule);
                    acl.Add(rule);
                }

                rules.Set(id, rule);
                changed++;
            }

            SetProblem(problems, current.RuleProblems, DirectoryTables.IpMap, id, problem, newProblems);
        }

        return (rules.ToTable(), problems.ToTable(), index.ToIndex(), acl.ToInputs(), changed);
    }

    private static void SetProblem(IdCollection<string>.Builder problems, IdCollection<string> before, string table, int id, string? problem, List<DataProblem> newProblems)
    {
        if (problem == before.Find(id))
        {
            return;
        }

        problems.Set(id, problem);
        if (problem is not null)
        {
            newProblems.Add(new DataProblem(table, id, problem));
        }
    }

    private static (ShardedDictionary<string, Device> ByUsername, IdCollection<Device> ById, IdCollection<string> Problems, int Changed) ApplyDevices(
        Snapshot current, IReadOnlyDictionary<int, SipDeviceRow?> rows, HashSet<string> usernames, RowChecks checks, StringPool strings, List<DataProblem> newProblems)
    {
        if (rows.Count == 0)
        {
            return (current.Devices, current.DevicesById, current.DeviceProblems, 0);
        }

        // Checked in id order: among the rows passing every check, the lowest id wins its username.
        var outcomes = new List<(int Id, Device? Device, string? Problem)>();
        var winners = new Dictionary<string, Device>(StringComparer.Ordinal);
        foreach (var (id, row) in rows.OrderBy(static r => r.Key))
        {
            var (device, problem) = row is null ? (null, null) : checks.Device(row, strings);
            if (device is not null && !winners.TryAdd(device.Username, device))
            {
                problem = RowChecks.DuplicateUsername(device.Username);
                device = null;
            }

            outcomes.Add((id, device, problem));
            if (row?.Username is { Length: > 0 } username)
            {
                usernames.Add(username);
            }
        }

        var byId = current.DevicesById.ToBuilder();
        var problems = current.DeviceProblems.ToBuilder();
        var changed = 0;
        foreach (var (id, candidate, problem) in outcomes)
        {
            var old = current.DevicesById.Find(id);
            var device = candidate is null ? null : RowChecks.Reuse(candidate, old is not null && old.Username == candidate.Username ? old : null);
            if (device is not null)
            {
                winners[device.Username] = device;
            }

            if (!ReferenceEquals(device, old))
            {
                byId.Set(id, device);
                changed++;
            }

            SetProblem(problems, current.DeviceProblems, DirectoryTables.SipDevices, id, problem, newProblems);
        }

        var byUsername = current.Devices.ToBuilder();
        foreach (var username in usernames)
        {
            var held = current.Devices.TryGetValue(username, out var holder) ? holder : null;
            if (winners.TryGetValue(username, out var device))
            {
                if (!ReferenceEquals(device, held))
                {
                    byUsername.Set(username, device);
                }
            }
            else if (held is not null)
            {
                byUsername.Remove(username);
            }
        }

        return (byUsername.ToMap(), byId.ToTable(), problems.ToTable(), changed);
    }
}
