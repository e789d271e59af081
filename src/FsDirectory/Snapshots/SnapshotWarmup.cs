using System.Threading.Channels;


namespace FsDirectory.Snapshots;

/// <summary>
/// Builds the whole-document answers (acl.conf) of each new snapshot in the background, right after
/// it goes live, instead of before: at a million rules acl.conf takes longer to build than an edit
/// takes to apply, and the dialplan and directory answers must not wait for it. A fetch that comes
/// first builds it itself (the snapshot builds each answer once), and the Event Socket planner waits
/// for the built document (<see cref="WarmedAsync"/>), so a <c>reloadacl</c> is never planned
/// against a document that does not exist yet. Only the latest snapshot is built: a burst of edits
/// becomes one build, with a pause of twice the last build time before the next one.
/// </summary>
public sealed partial class SnapshotWarmup : BackgroundService
{
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(5);

    private readonly SnapshotHolder _holder;
    private readonly IEnumerable<ISnapshotWarmer> _warmers;
    private readonly TimeProvider _time;
    private readonly ReplacedSnapshotCollector _collector;
    private readonly ILogger<SnapshotWarmup> _logger;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _lock = new();
    private Snapshot? _warmed;
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SnapshotWarmup(SnapshotHolder holder, IEnumerable<ISnapshotWarmer> warmers, TimeProvider time, ReplacedSnapshotCollector collector, ILogger<SnapshotWarmup> logger)
    {
        _holder = holder;
        _warmers = warmers;
        _time = time;
        _collector = collector;
        _logger = logger;
        holder.Swapped += (_, _) => _wake.Writer.TryWrite(true);
    }

    /// <summary>The newest snapshot whose answers are built.</summary>
    public Snapshot? Warmed => Volatile.Read(ref _warmed);

    /// <summary>
    /// What this instance serves whole documents from without building one now: the newest warmed
    /// snapshot (the current one before any is). Digests of it never force an acl.conf build out of turn.
    /// </summary>
    public Snapshot? Served => Warmed ?? _holder.Current;

    /// <summary>The newest warmed snapshot at least as new as <paramref name="snapshot"/>, once there is one.</summary>
    public async Task<Snapshot> WarmedAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task progress;
            lock (_lock)
            {
                if (_warmed is { } warmed && warmed.Version >= snapshot.Version)
                {
                    return warmed;
                }

                progress = _progress.Task;
            }

            await progress.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Builds the answers of <paramref name="snapshot"/> now, on the caller's thread.</summary>
    public void Warm(Snapshot snapshot)
    {
        foreach (var warmer in _warmers)
        {
            try
            {
                warmer.Warm(snapshot);
            }
            catch (Exception ex)
            {
                // FreeSWITCH's fetch of that answer then fails as it would have without warming; the
                // rest of the snapshot must still be served.
                LogWarmFailed(warmer.GetType().Name, ex.GetType().Name, ex.Message);
            }
        }

        TaskCompletionSource done;
        lock (_lock)
        {
            if (_warmed is null || snapshot.Version >= _warmed.Version)
            {
                _warmed = snapshot;
            }

            done = _progress;
            _progress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        done.TrySetResult();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _wake.Reader.WaitToReadAsync(stoppingToken))
            {
                _wake.Reader.TryRead(out _);
                var current = _holder.Current;
                if (current is null || Warmed?.Version >= current.Version)
                {
                    continue;
                }

                var started = _time.GetTimestamp();
                await Task.Run(() => Warm(current), stoppingToken);
                var took = _time.GetElapsedTime(started);
                // The snapshots this one replaced, and their documents, are garbage from here on.
                _collector.SnapshotsReplaced();
                // While edits keep coming, acl.conf at a million rules would otherwise be rebuilt back to
                // back on one core: leave twice the build time free (a lone edit is built at once).
                await Task.Delay(took * 2 < LongestPause ? took * 2 : LongestPause, _time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not prepare the {Warmer} answer for the new snapshot ({Error}: {Message})")]
    private partial void LogWarmFailed(string warmer, string error, string message);
}
