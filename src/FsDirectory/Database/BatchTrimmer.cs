using Prometheus;

namespace FsDirectory.Database;

/// <summary>
/// Deletes rows past a retention in the background, every <see cref="Interval"/>: the change feed
/// (<see cref="ChangeFeed.ChangeFeedTrimmer"/>) and the audit trail (<see cref="Audit.AuditTrimmer"/>).
/// Every instance does it; the deletes are idempotent, so instances need not agree on who trims.
/// </summary>
public abstract partial class BatchTrimmer(TimeProvider time, ILogger logger) : BackgroundService
{
    protected TimeProvider Time { get; } = time;

    /// <summary>What is trimmed, as log lines name it ("Change feed").</summary>
    protected abstract string What { get; }

    protected abstract TimeSpan Interval { get; }

    /// <summary>Rows deleted by this instance, for the metrics.</summary>
    protected abstract Counter Deleted { get; }

    /// <summary>False while there is nothing this instance should trim.</summary>
    protected virtual bool Active => true;

    /// <summary>One round: deletes what is past the retention now and returns how many rows went.</summary>
    protected abstract Task<int> TrimAsync(CancellationToken ct);

    /// <summary>
    /// Runs <paramref name="deleteBatch"/> (a DELETE ... LIMIT <paramref name="batchSize"/>, one short autocommit
    /// statement) until a batch deletes fewer rows, pausing <paramref name="pause"/> between batches.
    /// </summary>
    public static async Task<int> InBatchesAsync(Func<Task<int>> deleteBatch, int batchSize, TimeSpan pause, TimeProvider time, CancellationToken ct)
    {
        var total = 0;
        int deleted;
        do
        {
            deleted = await deleteBatch();
            total += deleted;
            if (deleted == batchSize && pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, time, ct);
            }
        }
        while (deleted == batchSize && !ct.IsCancellationRequested);

        return total;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        string? lastError = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, Time, stoppingToken);
                if (!Active)
                {
                    continue;
                }

                var deleted = await TrimAsync(stoppingToken);
                Deleted.Inc(deleted);
                if (deleted > 0)
                {
                    LogTrimmed(logger, What, deleted);
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
                // DELETE privilege: the table just grows until the next attempt. Said once, not every round.
                if (ex.Message != lastError)
                {
                    LogTrimFailed(logger, What, ex.GetType().Name, ex.Message);
                    lastError = ex.Message;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{What}: {Deleted} rows past the retention deleted")]
    private static partial void LogTrimmed(ILogger logger, string what, int deleted);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{What} could not be trimmed ({Error}: {Message}); retrying every trim interval")]
    private static partial void LogTrimFailed(ILogger logger, string what, string error, string message);
}
