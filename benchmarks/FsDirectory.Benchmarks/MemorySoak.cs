using System.Diagnostics;
using System.Globalization;
using FsDirectory.Acl;
using FsDirectory.ChangeFeed;
using FsDirectory.FreeSwitch;

namespace FsDirectory.Benchmarks;

/// <summary>Allocated in the soak right before the first edit: an allocation trace starts from its AllocationTick event.</summary>
internal readonly record struct SoakMarker(long Value);

/// <summary>
/// `soak [EDITS]`: a 1M-rule snapshot edited rule after rule in process (each edit moves a rule to
/// another address, so its bucket's acl.conf nodes are written again), with acl.conf built after
/// each one as the service does. Prints, every 25 edits, what the patch and the acl.conf build
/// allocated per edit and what the GC holds (per generation: size / fragmentation after the last
/// collection). With DOTNET_gcServer=1 and an EventPipe allocation trace
/// (DOTNET_EnableEventPipe=1, DOTNET_EventPipeConfig=Microsoft-Windows-DotNETRuntime:0x1:5), it
/// shows where the garbage of an edit comes from; that is how the large-object garbage of acl.conf
/// builds was found (BENCHMARKS.md). SOAK_BGC=N starts a background gen2 collection every N edits,
/// as the service's ReplacedSnapshotCollector does.
/// </summary>
public static class MemorySoak
{
    public static int Run(string[] args)
    {
        var edits = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 300;
        var builder = new SnapshotBuilder(new FixedOptions<FreeSwitchOptions>(new FreeSwitchOptions()), TimeProvider.System);
        var acl = new AclConfAnswers(new FixedOptions<AclOptions>(new AclOptions()));
        var specs = BenchData.Rules(1_000_000, RuleFamily.Mixed);
        var snapshot = builder.Build(BenchData.Rows(specs, 100_000), 1, null);
        acl.Warm(snapshot);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        Print("start", 0, 0);
        var patcher = new SnapshotPatcher(TimeProvider.System);
        var random = new Random(7);
        GC.KeepAlive(new SoakMarker[200_000]);
        long patchBytes = 0, aclBytes = 0;
        for (var i = 1; i <= edits; i++)
        {
            var moved = specs[random.Next(specs.Count)] with { Network = specs[random.Next(specs.Count)].Network };
            var row = BenchData.IpMapRow(moved);
            var changes = new RowChanges(snapshot.Accounts, snapshot.ProfileState, new Dictionary<int, IpMapRow?> { [row.Id] = row },
                new Dictionary<int, SipDeviceRow?>(), new HashSet<string>());
            var before = GC.GetAllocatedBytesForCurrentThread();
            snapshot = patcher.Apply(snapshot, changes, FeedPosition.Start, i + 1).Snapshot!;
            var patched = GC.GetAllocatedBytesForCurrentThread();
            acl.Warm(snapshot);
            patchBytes += patched - before;
            aclBytes += GC.GetAllocatedBytesForCurrentThread() - patched;
            if (Environment.GetEnvironmentVariable("SOAK_BGC") is { } every && i % int.Parse(every, CultureInfo.InvariantCulture) == 0)
            {
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: false, compacting: false);
            }

            if (i % 25 == 0)
            {
                Print($"edit {i}", patchBytes / 25, aclBytes / 25);
                patchBytes = aclBytes = 0;
            }
        }

        // What one background collection of this heap costs: CPU (on the GC's own threads) and pauses.
        var index = GC.GetGCMemoryInfo(GCKind.Background).Index;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var paused = GC.GetTotalPauseDuration();
        var clock = Stopwatch.StartNew();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: false, compacting: false);
        while (GC.GetGCMemoryInfo(GCKind.Background).Index == index)
        {
            Thread.Sleep(1);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"one background gen2 collection: {clock.ElapsedMilliseconds} ms, {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds:F0} ms CPU, {(GC.GetTotalPauseDuration() - paused).TotalMilliseconds:F1} ms of pauses"));
        GC.KeepAlive(snapshot);
        return 0;
    }

    private static void Print(string what, long patch, long acl)
    {
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        var generations = string.Join(" ", info.GenerationInfo.ToArray().Select((g, i) =>
            string.Create(CultureInfo.InvariantCulture, $"g{i} {g.SizeAfterBytes / 1e6:F0}/{g.FragmentationAfterBytes / 1e6:F0}")));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what,-9} RSS {Process.GetCurrentProcess().WorkingSet64 / 1e6:F0} MB, committed {info.TotalCommittedBytes / 1e6:F0}, heap {info.HeapSizeBytes / 1e6:F0} ({generations}), gen2 collections {GC.CollectionCount(2)}; per edit: patch {patch / 1e3:F0} KB, acl.conf {acl / 1e6:F1} MB"));
    }
}
