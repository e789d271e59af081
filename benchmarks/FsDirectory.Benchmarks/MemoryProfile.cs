using System.Globalization;
using System.Runtime.CompilerServices;
using FsDirectory.Acl;
using FsDirectory.ChangeFeed;
using FsDirectory.FreeSwitch;

namespace FsDirectory.Benchmarks;

/// <summary>
/// `memory [RULES] [DEVICES]` (`make bench-memory`): what each part of a snapshot keeps reachable,
/// measured in process as the managed heap after full compacting collections. RSS (make bench)
/// adds the runtime, Kestrel and whatever the GC keeps committed; this shows what is live data.
/// </summary>
public static class MemoryProfile
{
    public static int Run(string[] args)
    {
        var ruleCount = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var deviceCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
        var builder = new SnapshotBuilder(new FixedOptions<FreeSwitchOptions>(new FreeSwitchOptions()), TimeProvider.System);
        var acl = new AclConfAnswers(new FixedOptions<AclOptions>(new AclOptions()));
        var specs = BenchData.Rules(ruleCount, RuleFamily.Mixed);

        var baseline = Live();
        var rows = Rows(specs, 0);
        var withRows = Live();
        GC.KeepAlive(rows);
        Report($"{ruleCount:N0} ip_map rows as a list (what streaming avoids holding)", withRows - baseline, ruleCount);
        rows = null;

        baseline = Live();
        var rulesOnly = Build(builder, () => Rows(specs, 0), 1, null);
        var afterRules = Live();
        Report("snapshot of the rules (IpRule objects, names, prefixes, index)", afterRules - baseline, ruleCount);
        var index = new FsDirectory.IpAuth.IpRuleIndex(rulesOnly.UsableRules);
        var afterIndex = Live();
        GC.KeepAlive(index);
        Report("  of which the index (a second one built over the same rules)", afterIndex - afterRules, ruleCount);
        index = null;
        rulesOnly = null;

        baseline = Live();
        var snapshot = Build(builder, () => Rows(specs, deviceCount), 2, null);
        var afterAll = Live();
        Report($"snapshot of the rules and {deviceCount:N0} devices", afterAll - baseline, ruleCount);
        acl.Warm(snapshot);
        var afterAcl = Live();
        Report($"acl.conf kept for the snapshot ({acl.Answer(snapshot).Length:N0} bytes)", afterAcl - afterAll, ruleCount);

        // An edit of one rule applied as a row change: the new snapshot shares everything else, index shards included.
        var patched = Patch(snapshot, specs);
        var afterPatch = Live();
        GC.KeepAlive(patched);
        Report("second snapshot after one rule applied as a row change (acl.conf not yet rebuilt), while the first is still live", afterPatch - afterAcl, ruleCount);
        acl.Warm(patched);
        var afterPatchAcl = Live();
        Report("  and its acl.conf, built after the swap", afterPatchAcl - afterPatch, ruleCount);
        patched = null;

        // The same edit through a rebuild of the rules (ChangeFeed:ApplyRowChanges=false): unchanged rules are shared, the index is not.
        var afterDrop = Live();
        var next = Build(builder, () => EditedRule(specs), 3, snapshot);
        acl.Warm(next);
        var afterEdit = Live();
        GC.KeepAlive(snapshot);
        GC.KeepAlive(next);
        Report("second snapshot after one edited rule rebuilt with its table, while the first is still live", afterEdit - afterDrop, ruleCount);
        return 0;
    }

    // The rows are made in this frame, so that none of them is still reachable (from a temporary of
    // the caller's unoptimised frame) when the heap is measured.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Snapshot Build(SnapshotBuilder builder, Func<SnapshotData> rows, long version, Snapshot? previous) =>
        builder.Build(rows(), version, previous);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Snapshot Patch(Snapshot snapshot, List<RuleSpec> specs)
    {
        var row = Rows(specs.Take(1).ToList(), 0).IpRules!.Single() with { Name = "edited" };
        var changes = new RowChanges(snapshot.Accounts, snapshot.ProfileState, new Dictionary<int, IpMapRow?> { [row.Id] = row },
            new Dictionary<int, SipDeviceRow?>(), new HashSet<string>());
        return new SnapshotPatcher(TimeProvider.System).Apply(snapshot, changes, FeedPosition.Start, 4).Snapshot!;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static SnapshotData EditedRule(List<RuleSpec> specs)
    {
        var rows = Rows(specs, 0);
        return rows with
        {
            Devices = null,
            ChangedTables = new HashSet<string> { "ip_map" },
            IpRules = rows.IpRules!.Select(r => r.Id == 1 ? r with { Name = "edited" } : r),
        };
    }

    // Each row gets its own strings, as the database driver gives them.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static SnapshotData Rows(List<RuleSpec> specs, int devices)
    {
        var data = BenchData.Rows(specs, devices);
        return data with
        {
            IpRules = data.IpRules!.Select(r => r with { Prefix = new string(r.Prefix.AsSpan()), Context = new string(r.Context.AsSpan()) }),
        };
    }

    private static long Live()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static void Report(string what, long bytes, int rules) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {what} | {bytes / 1e6:F0} MB | {bytes / (double)rules:F0} |"));
}
