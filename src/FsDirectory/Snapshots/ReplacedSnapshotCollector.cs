using FsDirectory.ChangeFeed;
using FsDirectory.Metrics;
using Microsoft.Extensions.Options;


namespace FsDirectory.Snapshots;

/// <summary>
/// Starts a background gen2 collection once the snapshots that edits replaced are garbage. An
/// applied edit leaves its predecessor's own parts behind (copied chunks and shards, acl.conf's
/// parts), and they are in gen2, having lived until the next edit. Left to its own budget, which
/// grows with the heap, the GC lets hundreds of megabytes of them pile up at a million rules before
/// it collects gen2. A background collection does not compact and stops requests only for its
/// short pauses, unlike the compacting ones <c>GCConserveMemory</c> brings (0.4-0.5 s stalls,
/// BENCHMARKS.md). At most one every <see cref="ChangeFeedOptions.CollectReplacedSnapshots"/>;
/// edits that come sooner are collected when the interval is up, so the last edits of a burst do
/// not stay in memory until the next edit.
/// </summary>
public sealed class ReplacedSnapshotCollector(IOptionsMonitor<ChangeFeedOptions> options, FsDirectoryMetrics metrics, TimeProvider time)
{
    private readonly Lock _lock = new();
    private long? _lastCollection;
    private bool _owed;

    /// <summary>Called once the newest snapshot's documents are built, so the ones it replaced are unreachable but for requests in flight.</summary>
    /// <returns>Whether a collection was started now (false: none, or one is owed for when the interval is up).</returns>
    public bool SnapshotsReplaced()
    {
        var interval = options.CurrentValue.CollectReplacedSnapshots;
        if (interval <= TimeSpan.Zero)
        {
            return false;
        }

        lock (_lock)
        {
            if (_lastCollection is { } last && time.GetElapsedTime(last) is var since && since < interval)
            {
                if (!_owed)
                {
                    _owed = true;
                    _ = CollectOwedAsync(interval - since);
                }

                return false;
            }

            _lastCollection = time.GetTimestamp();
            _owed = false;
        }

        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: false, compacting: false);
        metrics.ReplacedSnapshotCollections.Inc();
        return true;
    }

    private async Task CollectOwedAsync(TimeSpan delay)
    {
        await Task.Delay(delay, time).ConfigureAwait(false);
        lock (_lock)
        {
            if (!_owed)
            {
                // A later edit's collection came first.
                return;
            }

            _owed = false;
        }

        SnapshotsReplaced();
    }
}
