using FsDirectory.Database;
using FsDirectory.Metrics;
using FsDirectory.Snapshots;
using Microsoft.Extensions.Options;
using Prometheus;

namespace FsDirectory.ChangeFeed;

/// <summary>
/// Deletes change-feed rows older than <see cref="ChangeFeedOptions.Retention"/>, in bounded batches
/// (see <see cref="BatchTrimmer"/>). An instance that falls further behind than the retention notices
/// it and rebuilds in full (see <see cref="SnapshotReloader"/>).
/// </summary>
public sealed class ChangeFeedTrimmer(
    DirectoryStore store,
    ReloadStatus status,
    IOptionsMonitor<ChangeFeedOptions> options,
    IOptionsMonitor<DatabaseOptions> database,
    FsDirectoryMetrics metrics,
    TimeProvider time,
    ILogger<ChangeFeedTrimmer> logger) : BatchTrimmer(time, logger)
{
    protected override string What => "Change feed";

    protected override TimeSpan Interval => options.CurrentValue.TrimInterval;

    protected override Counter Deleted => metrics.FeedRowsTrimmed;

    protected override bool Active => status.Detection == ChangeDetection.Triggers;

    protected override Task<int> TrimAsync(CancellationToken ct) =>
        store.TrimFeedAsync(options.CurrentValue.Retention, database.CurrentValue.LoadTimeoutSeconds, ct);
}
