using FsDirectory.Database;
using FsDirectory.Metrics;
using FsDirectory.Snapshots;
using Microsoft.Extensions.Options;

namespace FsDirectory.ChangeFeed;

/// <summary>
/// Deletes change-feed rows older than <see cref="ChangeFeedOptions.Retention"/>, in bounded batches.
/// Every instance reading the feed does it; the delete is idempotent, so several instances do not
/// need to agree on who trims. An instance that falls further behind than the retention notices it
/// and rebuilds in full (see <see cref="SnapshotReloader"/>).
/// </summary>
public sealed partial class ChangeFeedTrimmer(
    DirectoryStore store,
    ReloadStatus status,
    IOptionsMonitor<ChangeFeedOptions> options,
    IOptionsMonitor<DatabaseOptions> database,
    FsDirectoryMetrics metrics,
    TimeProvider time,
    ILogger<ChangeFeedTrimmer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        string? lastError = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.CurrentValue.TrimInterval, time, stoppingToken);
                if (status.Detection != ChangeDetection.Triggers)
                {
                    continue;
                }

                var deleted = await store.TrimFeedAsync(options.CurrentValue.Retention, database.CurrentValue.LoadTimeoutSeconds, stoppingToken);
                metrics.FeedRowsTrimmed.Inc(deleted);
                if (deleted > 0)
                {
                    LogTrimmed(deleted);
                }

                lastError = null;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Another instance trimming the same rows (a Galera certification conflict) or a missing
                // DELETE privilege: the feed just grows until the next attempt. Said once, not every minute.
                if (ex.Message != lastError)
                {
                    LogTrimFailed(ex.GetType().Name, ex.Message);
                    lastError = ex.Message;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Change feed: {Deleted} rows past the retention deleted")]
    private partial void LogTrimmed(int deleted);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Change feed could not be trimmed ({Error}: {Message}); retrying every trim interval")]
    private partial void LogTrimFailed(string error, string message);
}
