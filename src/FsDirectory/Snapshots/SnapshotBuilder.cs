using FsDirectory.Acl;
using FsDirectory.Collections;
using FsDirectory.Directory;
using FsDirectory.FreeSwitch;
using FsDirectory.IpAuth;
using Microsoft.Extensions.Options;

using FsDirectory.ChangeFeed;
using FsDirectory.Database;

namespace FsDirectory.Snapshots;

/// <summary>
/// Turns whole tables into a snapshot (start-up, the checksum fallback, and every repair). Every check
/// that can fail is per row (<see cref="RowChecks"/>): a bad row is skipped and listed as a problem,
/// and the good rows are still served.
/// </summary>
public sealed class SnapshotBuilder(IOptionsMonitor<FreeSwitchOptions> options, TimeProvider time)
{
    /// <param name="previous">
    /// The snapshot being replaced: its rules or devices are kept as they are when <paramref name="data"/>
    /// leaves them out because their tables did not change (see <see cref="DirectoryStore.LoadAsync{T}"/>),
    /// and unchanged rules and devices stay its objects.
    /// </param>
    public Snapshot Build(SnapshotData data, long version, Snapshot? previous = null)
    {
        var accounts = IdCollection<AccountRow>.Empty.ToBuilder();
        foreach (var account in data.Accounts)
        {
            accounts.Set(account.Id, account);
        }

        var profiles = ProfileState.Build(data.Profiles, data.Gateways, data.DefaultSipProfileSetting, data.TrustedProxies);
        var routingContext = data.IpRules is null && previous is not null ? previous.RoutingContext : options.CurrentValue.DefaultRoutingContext;
        var checks = new RowChecks(accounts.ToTable(), profiles, routingContext);
        var strings = new StringPool();

        IdCollection<IpRule> rules;
        IdCollection<string> ruleProblems;
        IpRuleIndex index;
        AclInputs acl;
        if (data.IpRules is { } ruleRows)
        {
            (rules, ruleProblems) = BuildRules(ruleRows, previous?.UsableRules, checks, strings);
            index = new IpRuleIndex(rules);
            acl = AclInputs.Build(rules);
        }
        else
        {
            var unchanged = previous ?? throw new InvalidOperationException("ip_map rows are needed for a first snapshot");
            (rules, ruleProblems, index, acl) = (unchanged.UsableRules, unchanged.RuleProblems, unchanged.Rules, unchanged.AclInputs);
        }

        ShardedDictionary<string, Device> devices;
        IdCollection<Device> devicesById;
        IdCollection<string> deviceProblems;
        if (data.Devices is { } deviceRows)
        {
            (devices, devicesById, deviceProblems) = BuildDevices(deviceRows, previous?.Devices, checks, strings);
        }
        else
        {
            var unchanged = previous ?? throw new InvalidOperationException("sip_devices rows are needed for a first snapshot");
            (devices, devicesById, deviceProblems) = (unchanged.Devices, unchanged.DevicesById, unchanged.DeviceProblems);
        }

        var snapshot = new Snapshot
        {
            Version = version,
            ChangeToken = data.ChangeToken,
            LoadedAt = time.GetUtcNow(),
            Devices = devices,
            Rules = index,
            UsableRules = rules,
            AclInputs = acl,
            Accounts = checks.Accounts,
            ProfileState = profiles,
            RoutingContext = routingContext,
            RuleProblems = ruleProblems,
            DevicesById = devicesById,
            DeviceProblems = deviceProblems,
            FeedPosition = data.FeedPosition,
        };

        // Only devices changed: acl.conf and sofia.conf are the same documents, so the switches'
        // next fetches need not wait for (and the heap need not hold) a rebuild of them.
        if (previous is not null && data.IpRules is null && data.ChangedTables is { } changed && changed.All(t => t == DirectoryTables.SipDevices))
        {
            snapshot.InheritAnswers(previous, static _ => true);
        }

        return snapshot;
    }

    private static (IdCollection<IpRule> Rules, IdCollection<string> Problems) BuildRules(
        IEnumerable<IpMapRow> rows, IdCollection<IpRule>? previousRules, RowChecks checks, StringPool strings)
    {
        var rules = IdCollection<IpRule>.Empty.ToBuilder();
        var problems = IdCollection<string>.Empty.ToBuilder();
        // ip_map is read in id order, so the previous rules are walked alongside instead of searched.
        using var previous = (previousRules ?? IdCollection<IpRule>.Empty).Entries.GetEnumerator();
        var hasPrevious = previous.MoveNext();
        foreach (var row in rows)
        {
            var (rule, problem) = checks.Rule(row);
            if (problem is not null)
            {
                problems.Set(row.Id, problem);
            }

            if (rule is null)
            {
                continue;
            }

            while (hasPrevious && previous.Current.Key < row.Id)
            {
                hasPrevious = previous.MoveNext();
            }

            var same = hasPrevious && previous.Current.Key == row.Id ? previous.Current.Value : previousRules?.Find(row.Id);
            // An unchanged rule is the previous snapshot's object: after an edit at a million rules,
            // the new snapshot then shares almost all of its rules with the old one instead of
            // doubling them, and the row's copy dies young.
            rules.Set(row.Id, RowChecks.Reuse(rule, same, strings));
        }

        return (rules.ToTable(), problems.ToTable());
    }

    private static (ShardedDictionary<string, Device> ByUsername, IdCollection<Device> ById, IdCollection<string> Problems) BuildDevices(
        IReadOnlyList<SipDeviceRow> rows, ShardedDictionary<string, Device>? previousDevices, RowChecks checks, StringPool strings)
    {
        var byUsername = new ShardedDictionary<string, Device>.Builder(rows.Count, StringComparer.Ordinal);
        var byId = IdCollection<Device>.Empty.ToBuilder();
        var problems = IdCollection<string>.Empty.ToBuilder();
        // The lowest id wins a username (rows are read in id order).
        foreach (var row in rows.OrderBy(static r => r.Id))
        {
            var (device, problem) = checks.Device(row, strings);
            if (device is not null && byUsername.TryGetValue(device.Username, out _))
            {
                problem = RowChecks.DuplicateUsername(device.Username);
                device = null;
            }

            if (problem is not null)
            {
                problems.Set(row.Id, problem);
            }

            if (device is null)
            {
                continue;
            }

            // As with rules: an unchanged device stays the previous snapshot's object.
            device = RowChecks.Reuse(device, previousDevices is not null && previousDevices.TryGetValue(device.Username, out var same) ? same : null);
            byUsername.Set(device.Username, device);
            byId.Set(row.Id, device);
        }

        return (byUsername.ToMap(), byId.ToTable(), problems.ToTable());
    }
}
