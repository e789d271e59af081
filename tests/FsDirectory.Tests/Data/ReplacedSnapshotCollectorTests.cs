using FsDirectory.ChangeFeed;
using FsDirectory.Metrics;
using FsDirectory.Tests.EventSocket;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Data;

public sealed class ReplacedSnapshotCollectorTests
{
    [Fact]
    public async Task Replaced_snapshots_start_a_background_gen2_collection_at_most_once_per_interval()
    {
        var clock = new ManualClock();
        var metrics = new FsDirectoryMetrics(new SnapshotHolder(), new ReloadStatus(), clock);
        var collector = new ReplacedSnapshotCollector(
            new FixedOptions<ChangeFeedOptions>(new ChangeFeedOptions { CollectReplacedSnapshots = TimeSpan.FromSeconds(5) }), metrics, clock);
        var gen2 = GC.CollectionCount(2);

        Assert.True(collector.SnapshotsReplaced());
        await Eventually.TrueAsync(() => GC.CollectionCount(2) > gen2, TimeSpan.FromSeconds(30), "a gen2 collection");
        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.False(collector.SnapshotsReplaced());
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(collector.SnapshotsReplaced());
        Assert.Equal(2, metrics.ReplacedSnapshotCollections.Value);
    }

    [Fact]
    public async Task Snapshots_replaced_within_the_interval_are_collected_when_it_is_up()
    {
        var metrics = new FsDirectoryMetrics(new SnapshotHolder(), new ReloadStatus(), TimeProvider.System);
        var collector = new ReplacedSnapshotCollector(
            new FixedOptions<ChangeFeedOptions>(new ChangeFeedOptions { CollectReplacedSnapshots = TimeSpan.FromMilliseconds(300) }), metrics, TimeProvider.System);

        Assert.True(collector.SnapshotsReplaced());
        Assert.False(collector.SnapshotsReplaced());
        Assert.False(collector.SnapshotsReplaced());

        // The two skipped calls owe one collection, not two, and nothing more is started after it.
        await Eventually.TrueAsync(() => metrics.ReplacedSnapshotCollections.Value == 2, TimeSpan.FromSeconds(10), "the owed collection");
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(2, metrics.ReplacedSnapshotCollections.Value);
    }

    [Fact]
    public void With_a_zero_interval_collections_are_left_to_the_runtime()
    {
        var clock = new ManualClock();
        var metrics = new FsDirectoryMetrics(new SnapshotHolder(), new ReloadStatus(), clock);
        var collector = new ReplacedSnapshotCollector(
            new FixedOptions<ChangeFeedOptions>(new ChangeFeedOptions { CollectReplacedSnapshots = TimeSpan.Zero }), metrics, clock);

        Assert.False(collector.SnapshotsReplaced());
        Assert.Equal(0, metrics.ReplacedSnapshotCollections.Value);
    }
}
