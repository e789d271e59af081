using FsDirectory.ChangeFeed;
using FsDirectory.FreeSwitch;
using FsDirectory.Metrics;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Polly;
using Polly.Retry;
using Polly.Timeout;

using FsDirectory.Database;

namespace FsDirectory.Snapshots;

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
/// Loads the first snapshot, then follows the changes. With the change-feed triggers it polls
/// <c>fsdir_change_feed</c> and applies the changed rows to the live snapshot
/// (<see cref="SnapshotPatcher"/>); it rebuilds from whole tables only at start-up, when the feed
/// cannot be trusted (trimmed past this instance, not read for longer than its retention), for very
/// large batches, when the global default profile changes, and when the self-check finds a
/// difference. Without the triggers it polls CHECKSUM TABLE and re-reads the tables that changed.
/// A failed reload keeps the previous snapshot (FreeSWITCH keeps being answered from it) and is retried.
/// </summary>
public sealed partial class SnapshotReloader(
    DirectoryStore store,
    SnapshotBuilder builder,
    SnapshotPatcher patcher,
    SnapshotHolder holder,
    SnapshotWarmup warmup,
    ReloadStatus status,
    IOptionsMonitor<DatabaseOptions> options,
    IOptionsMonitor<ChangeFeedOptions> feedOptions,
    IOptionsMonitor<FreeSwitchOptions> freeSwitchOptions,
    FsDirectoryMetrics metrics,
    TimeProvider time,
    ILogger<SnapshotReloader> logger) : BackgroundService
{
    /// <summary>How often the feed triggers are looked for again while they work (in checksum mode: at every poll).</summary>
    private static readonly TimeSpan TriggerRecheck = TimeSpan.FromMinutes(1);
    private const int ChecksumCostFactor = 5;

    private readonly SemaphoreSlim _reloadLock = new(1, 1);
    private long _version;
    private long _lastDetection;
    private long _lastFeedRead;
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

    /// <summary>
    /// Picks up what changed now (used by admin writes so that their change is visible when they
    /// return). With the change feed, <paramref name="force"/> changes nothing: the feed says exactly
    /// what changed. In checksum mode it re-reads even when the checksums did not move.
    /// </summary>
    public async Task<Snapshot?> ReloadIfChangedAsync(bool force, CancellationToken cancellationToken)
    {
        await _reloadLock.WaitAsync(cancellationToken);
        try
        {
            var current = holder.Current;
            var mode = await DetectAsync(current, cancellationToken);
            if (current is null)
            {
                return await RebuildLockedAsync(mode, null, null, RebuildReason.Startup, "first load", cancellationToken);
            }

            if ((mode == ChangeDetection.Triggers) != (current.FeedPosition is not null))
            {
                return await RebuildLockedAsync(mode, current, null, RebuildReason.DetectionChanged, $"change detection is now {mode}", cancellationToken);
            }

            return mode == ChangeDetection.Checksum
                ? await ChecksumAsync(current, force, cancellationToken)
                : await FollowFeedAsync(current, cancellationToken);
        }
        finally
        {
            _reloadLock.Release();
        }
    }

    /// <summary>Rebuilds the whole snapshot from the tables (the self-check's repair).</summary>
    public async Task<Snapshot> RebuildAsync(RebuildReason reason, string detail, CancellationToken cancellationToken)
    {
        await _reloadLock.WaitAsync(cancellationToken);
        try
        {
            var mode = status.Detection ?? await DetectAsync(holder.Current, cancellationToken);
            return await RebuildLockedAsync(mode, holder.Current, null, reason, detail, cancellationToken);
        }
        finally
        {
            _reloadLock.Release();
        }
    }

    private async Task<ChangeDetection> DetectAsync(Snapshot? current, CancellationToken cancellationToken)
    {
        if (current is not null && status.Detection == ChangeDetection.Triggers && time.GetElapsedTime(_lastDetection) < TriggerRecheck)
        {
            return ChangeDetection.Triggers;
        }

        var (mode, missing) = await store.DetectChangeModeAsync(options.CurrentValue.PollTimeoutSeconds, cancellationToken);
        _lastDetection = time.GetTimestamp();
        if (status.Detection != mode)
        {
            LogDetectionMode(mode);
            if (missing.Count > 0)
            {
                LogTriggersMissing(string.Join(", ", missing));
            }
        }

        status.Detection = mode;
        return mode;
    }

    private async Task<Snapshot?> ChecksumAsync(Snapshot current, bool force, CancellationToken cancellationToken)
    {
        if (!force)
        {
            var polled = time.GetTimestamp();
            var token = await store.ReadChecksumTokenAsync(options.CurrentValue.PollTimeoutSeconds, cancellationToken);
            _lastPollCost = time.GetElapsedTime(polled);
            MarkReachable();
            if (token == current.ChangeToken)
            {
                return current;
            }
        }

        return await RebuildLockedAsync(ChangeDetection.Checksum, current, null, RebuildReason.Checksum, "table checksums changed", cancellationToken);
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

    private async Task<Snapshot?> FollowFeedAsync(Snapshot current, CancellationToken cancellationToken)
    {
        var feed = feedOptions.CurrentValue;
        if (current.RoutingContext != freeSwitchOptions.CurrentValue.DefaultRoutingContext)
        {
            // Rules only, at the position already reached: changes since are applied by the next poll.
            return await RebuildLockedAsync(ChangeDetection.Triggers, current, new HashSet<string> { DirectoryTables.IpMap },
                RebuildReason.RoutingContext, "FreeSwitch:DefaultRoutingContext changed", cancellationToken, current.FeedPosition);
        }

        // Rows this instance never read may have been trimmed by another instance since.
        if (time.GetElapsedTime(_lastFeedRead) > feed.Retention - feed.LateCommitWindow)
        {
            return await RebuildLockedAsync(ChangeDetection.Triggers, current, null, RebuildReason.FeedStalled,
                $"the change feed was not read for longer than ChangeFeed:Retention ({feed.Retention}) allows", cancellationToken);
        }

        var position = current.FeedPosition!;
        var now = time.GetTimestamp();
        var expireBefore = now - (long)(feed.LateCommitWindow.TotalSeconds * time.TimestampFrequency);
        var started = now;
        var outcome = await store.InTransactionAsync(options.CurrentValue.PollTimeoutSeconds, options.CurrentValue.LoadTimeoutSeconds, async reads =>
        {
            var (oldest, rows) = await reads.FeedAsync(position.ReadAfter, DirectoryStore.FeedPageSize);
            // The trim always keeps the newest row, so an oldest id past the high-water mark means rows
            // this instance never read are gone.
            if (oldest is { } first && first > position.HighWater + 1)
            {
                return new FeedOutcome(Rebuild: (null, RebuildReason.FeedTrimmed, $"the change feed was trimmed past this instance's position ({position.HighWater}, oldest row now {first})"));
            }

            var page = rows;
            var fresh = 0;
            while (true)
            {
                fresh += page.Count(r => !position.Knows(r.Id));
                if (fresh > SnapshotPatcher.MaxRowsPerPatch)
                {
                    // Not every page was read, so which tables changed is not known: all of them are read.
                    return new FeedOutcome(Rebuild: (null, RebuildReason.Bulk, $"more than {SnapshotPatcher.MaxRowsPerPatch} row changes at once"));
                }

                if (page.Count < DirectoryStore.FeedPageSize)
                {
                    break;
                }

                page = await reads.FeedPageAsync(page[^1].Id, DirectoryStore.FeedPageSize);
                rows.AddRange(page);
            }

            var advanced = position.Advance(rows.Select(static r => r.Id), now, expireBefore, out var advance);
            var changes = rows.Where(r => !position.Knows(r.Id)).ToList();
            if (changes.Count == 0)
            {
                return new FeedOutcome(Position: advanced, Advance: advance);
            }

            if (!feed.ApplyRowChanges)
            {
                var tables = changes.Select(static r => r.TableName).ToHashSet(StringComparer.Ordinal);
                return new FeedOutcome(Position: advanced, Rebuild: (TablesOrAll(tables), RebuildReason.TablesChanged, $"{changes.Count} row changes in {string.Join(", ", tables.Order())}"));
            }

            var patch = await patcher.ApplyAsync(current, changes, advanced, reads, () => Interlocked.Increment(ref _version));
            return new FeedOutcome(Position: advanced, Advance: advance, Patch: patch, Changes: changes.Count);
        }, cancellationToken);

        MarkReachable();
        _lastFeedRead = now;
        if (outcome.Rebuild is var (tables, reason, detail) && reason is { } why)
        {
            return await RebuildLockedAsync(ChangeDetection.Triggers, current, tables, why, detail, cancellationToken, tables is null ? null : outcome.Position);
        }

        if (outcome.Advance is { } moved)
        {
            metrics.FeedRowsApplied.Inc(outcome.Changes);
            metrics.FeedLateRows.Inc(moved.Late);
            metrics.FeedGapIdsGivenUp.Inc(moved.ExpiredGapIds);
        }

        if (outcome.Patch is { } patch)
        {
            if (patch.Snapshot is null)
            {
                return await RebuildLockedAsync(ChangeDetection.Triggers, current, patch.RebuildTables, patch.Reason!.Value, patch.Detail!, cancellationToken,
                    patch.RebuildTables is null ? null : outcome.Position);
            }

            holder.Swap(patch.Snapshot);
            LogPatched(patch.Snapshot.Version, outcome.Changes, patch.RulesChanged, patch.DevicesChanged, patch.Snapshot.FeedPosition!.ToString(), time.GetElapsedTime(started).TotalMilliseconds);
            LogProblems(patch.NewProblems);
            return patch.Snapshot;
        }

        // Nothing new, but gaps may have closed or been given up: the snapshot records how far it is.
        if (outcome.Position is { } next && (next.HighWater != position.HighWater || next.Gaps.Count != position.Gaps.Count))
        {
            var same = current.WithFeedPosition(next);
            holder.Swap(same);
            return same;
        }

        return current;
    }

    private static HashSet<string>? TablesOrAll(HashSet<string> tables) =>
        tables.All(DirectoryTables.Watched.Contains) ? tables : null;

    /// <param name="tables">The tables to read whole (null: all); the others are kept from <paramref name="current"/>.</param>
    /// <param name="position">With some tables only: the feed position of the changes that are picked up by reading them.</param>
    private async Task<Snapshot> RebuildLockedAsync(
        ChangeDetection mode, Snapshot? current, IReadOnlySet<string>? tables, RebuildReason reason, string detail, CancellationToken cancellationToken, FeedPosition? position = null)
    {
        var started = time.GetTimestamp();
        var clock = new FeedClock(feedOptions.CurrentValue.LateCommitWindow, started);
        var snapshot = await store.LoadAsync(mode, options.CurrentValue.LoadTimeoutSeconds, current?.ChangeToken, tables,
            mode == ChangeDetection.Triggers ? clock : null, position,
            data => builder.Build(data, Interlocked.Increment(ref _version), current), cancellationToken);
        MarkReachable();
        _lastFeedRead = started;
        // The first snapshot is complete before anything is served, and so is every snapshot when row
        // changes are off (the behaviour before the change feed); otherwise acl.conf is built right
        // after the swap (SnapshotWarmup).
        if (current is null || !feedOptions.CurrentValue.ApplyRowChanges)
        {
            warmup.Warm(snapshot);
        }

        if (current is null)
        {
            // Nothing is served yet, so a blocking compacting collection costs no caller anything,
            // and it hands back to the OS the memory the load went through (rows, the acl.conf
            // build): at a million rules the difference is hundreds of megabytes of RSS.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }

        holder.Swap(snapshot);
        metrics.Rebuilds.WithLabels(FsDirectoryMetrics.Label(reason)).Inc();
        LogSnapshotLoaded(snapshot.Version, detail, snapshot.UsableRules.Count, snapshot.Devices.Count, snapshot.Profiles.Count,
            snapshot.Problems.Count, time.GetElapsedTime(started).TotalMilliseconds);
        LogProblems(snapshot.Problems.Take(50));
        return snapshot;
    }

    private void LogProblems(IEnumerable<DataProblem> problems)
    {
        foreach (var problem in problems.Take(50))
        {
            LogProblem(problem.Table, problem.RowId, problem.Problem);
        }
    }

    private void MarkReachable()
    {
        status.DatabaseReachable = true;
        status.LastDatabaseContact = time.GetUtcNow();
        status.LastError = null;
    }

    private sealed record FeedOutcome(
        FeedPosition? Position = null,
        FeedAdvance? Advance = null,
        PatchResult? Patch = null,
        int Changes = 0,
        (IReadOnlySet<string>? Tables, RebuildReason? Reason, string Detail) Rebuild = default);

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot {Version} loaded ({Reason}): {Rules} usable IP rules, {Devices} devices, {Profiles} profiles, {Problems} problem rows, in {Milliseconds:F0} ms")]
    private partial void LogSnapshotLoaded(long version, string reason, int rules, int devices, int profiles, int problems, double milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot {Version}: {Changes} row changes applied ({Rules} rules, {Devices} devices changed; {Position}) in {Milliseconds:F0} ms")]
    private partial void LogPatched(long version, int changes, int rules, int devices, string position, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped {Table} row {RowId}: {Problem}")]
    private partial void LogProblem(string table, long rowId, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Snapshot reload failed ({Error}: {Message}); still answering from snapshot {Version}")]
    private partial void LogReloadFailed(string error, string message, long? version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Change detection: {Mode}")]
    private partial void LogDetectionMode(ChangeDetection mode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Change-feed triggers missing ({Missing}): apply sql/migrations/007_change_feed.sql; polling CHECKSUM TABLE instead")]
    private partial void LogTriggersMissing(string missing);
}
