using Microsoft.Extensions.Options;
using MySqlConnector;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace FsDirectory.Data;

/// <summary>Status of the reload loop, for /health/ready and /api/status.</summary>
public sealed class ReloadStatus
{
    public ChangeDetection? Detection { get; set; }
    public DateTimeOffset? LastDatabaseContact { get; set; }
    public DateTimeOffset? LastFailure { get; set; }
    public string? LastError { get; set; }
    public bool DatabaseReachable { get; set; }
}

/// <summary>
/// Loads the first snapshot, then polls the change token and rebuilds when it moves. A failed
/// rebuild keeps the previous snapshot (FreeSWITCH keeps being answered from it) and is retried.
/// </summary>
public sealed partial class SnapshotReloader(
    DirectoryStore store,
    SnapshotBuilder builder,
    SnapshotHolder holder,
    IEnumerable<ISnapshotWarmer> warmers,
    ReloadStatus status,
    IOptionsMonitor<DatabaseOptions> options,
    TimeProvider time,
    ILogger<SnapshotReloader> logger) : BackgroundService
{
    private const int ChecksumCostFactor = 5;
    private readonly SemaphoreSlim _reloadLock = new(1, 1);
    private long _version;
    private TimeSpan _lastPollCost;

    /// <summary>
    /// Retries transient database failures with exponential back-off and a budget per attempt.
    /// Other failures are not retried here: the poll loop tries again on its next tick anyway.
    /// </summary>
    private ResiliencePipeline BuildPipeline() => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            // A node failure is retried at once on the next host (DatabaseConnector moved there), so an
            // instance with a live node left never reports the database unreachable.
            ShouldHandle = new PredicateBuilder()
                .Handle<MySqlException>(static ex => ex.IsTransient)
                .Handle<TimeoutRejectedException>()
                .Handle<Exception>(DatabaseConnector.IsNodeFailure),
            MaxRetryAttempts = 3,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            MaxDelay = TimeSpan.FromSeconds(5),
        })
        .AddTimeout(TimeSpan.FromSeconds(options.CurrentValue.LoadTimeoutSeconds))
        .Build();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pipeline = BuildPipeline();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await pipeline.ExecuteAsync(async ct => await ReloadIfChangedAsync(force: false, ct), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                status.DatabaseReachable = false;
                status.LastFailure = time.GetUtcNow();
                status.LastError = ex.Message;
                LogReloadFailed(ex.GetType().Name, ex.Message, holder.Current?.Version);
            }

            var interval = status.Detection == ChangeDetection.Checksum
                ? ChecksumInterval()
                : options.CurrentValue.PollInterval;
            try
            {
                await Task.Delay(interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Rebuilds now when the data changed (or always, with <paramref name="force"/>); used by admin writes so their change is visible when they return.</summary>
    public async Task<Snapshot?> ReloadIfChangedAsync(bool force, CancellationToken cancellationToken)
    {
        await _reloadLock.WaitAsync(cancellationToken);
        try
        {
            var current = holder.Current;
            var mode = current is null || status.Detection is null
                ? await store.DetectChangeModeAsync(options.CurrentValue.PollTimeoutSeconds, cancellationToken)
                : status.Detection.Value;
            if (status.Detection != mode)
            {
                LogDetectionMode(mode);
            }

            status.Detection = mode;
            if (current is not null && !force)
            {
                var polled = time.GetTimestamp();
                var token = await store.ReadChangeTokenAsync(mode, options.CurrentValue.PollTimeoutSeconds, cancellationToken);
                _lastPollCost = time.GetElapsedTime(polled);
                MarkReachable();
                if (token == current.ChangeToken)
                {
                    return current;
                }
            }

            var started = time.GetTimestamp();
            var snapshot = await store.LoadAsync(mode, options.CurrentValue.LoadTimeoutSeconds, current?.ChangeToken,
                data => builder.Build(data, Interlocked.Increment(ref _version), current), cancellationToken);
            MarkReachable();
            Warm(snapshot);
            if (current is null)
            {
                // Nothing is served yet, so a blocking compacting collection costs no caller anything,
                // and it hands back to the OS the memory the load went through (rows, the acl.conf
                // build): at a million rules the difference is hundreds of megabytes of RSS.
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            }

            holder.Swap(snapshot);
            LogSnapshotLoaded(snapshot.Version, snapshot.UsableRules.Count, snapshot.Devices.Count, snapshot.Profiles.Count,
                snapshot.Problems.Count, time.GetElapsedTime(started).TotalMilliseconds);
            foreach (var problem in snapshot.Problems.Take(50))
            {
                LogProblem(problem.Table, problem.RowId, problem.Problem);
            }

            return snapshot;
        }
        finally
        {
            _reloadLock.Release();
        }
    }

    /// <summary>
    /// CHECKSUM TABLE reads every row of the watched tables: polled at ChecksumPollInterval while that
    /// is cheap, but never spending more than a fifth of the database's time on it as tables grow.
    /// </summary>
    private TimeSpan ChecksumInterval()
    {
        var floor = _lastPollCost * ChecksumCostFactor;
        var configured = options.CurrentValue.ChecksumPollInterval;
        return floor > configured ? floor : configured;
    }

    private void Warm(Snapshot snapshot)
    {
        foreach (var warmer in warmers)
        {
            try
            {
                warmer.Warm(snapshot);
            }
            catch (Exception ex)
            {
                // FreeSWITCH's fetch of that answer then fails as it would have without warming; the
                // rest of the snapshot must still go live.
                LogWarmFailed(warmer.GetType().Name, ex.GetType().Name, ex.Message);
            }
        }
    }

    private void MarkReachable()
    {
        status.DatabaseReachable = true;
        status.LastDatabaseContact = time.GetUtcNow();
        status.LastError = null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot {Version} loaded: {Rules} usable IP rules, {Devices} devices, {Profiles} profiles, {Problems} problem rows, in {Milliseconds:F0} ms")]
    private partial void LogSnapshotLoaded(long version, int rules, int devices, int profiles, int problems, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped {Table} row {RowId}: {Problem}")]
    private partial void LogProblem(string table, long rowId, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Snapshot reload failed ({Error}: {Message}); still answering from snapshot {Version}")]
    private partial void LogReloadFailed(string error, string message, long? version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not prepare the {Warmer} answer for the new snapshot ({Error}: {Message})")]
    private partial void LogWarmFailed(string warmer, string error, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Change detection: {Mode}")]
    private partial void LogDetectionMode(ChangeDetection mode);
}
