using System.Threading.Channels;
using FsDirectory.Database;
using FsDirectory.EventSocket;
using FsDirectory.Metrics;
using FsDirectory.Snapshots;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace FsDirectory.Cluster;

/// <summary>One instance as /api/status shows it to every other.</summary>
public sealed record InstanceView(
    string InstanceId,
    string Address,
    string DatabaseNode,
    long SnapshotVersion,
    bool ServesSameConfiguration,
    bool Live,
    double SecondsSinceHeartbeat);

/// <summary>What this instance knows of the others and of the lease.</summary>
public sealed record ClusterStatus(string InstanceId, bool Coordinating, LeaseView Lease, IReadOnlyList<InstanceView> Instances, string? LastError);

/// <summary>
/// Runs the lease and the heartbeat rows for instances that push to switches (EventSocket:Nodes
/// set). Each round writes this instance's row (the database node it reads and a digest of the
/// configuration it serves), renews or watches the lease, and reads every instance's row. The pusher
/// uses the rows to hold a push until every live instance serves the change: a switch told to
/// <c>reloadacl</c> fetches acl.conf from whichever instance its binding reaches first.
/// </summary>
public sealed partial class ClusterCoordinator : BackgroundService
{
    private static readonly TimeSpan PeerPollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MissingTableRetry = TimeSpan.FromSeconds(30);

    private readonly DatabaseConnector _database;
    private readonly ClusterStore _store;
    private readonly PushLease _lease;
    private readonly InstanceIdentity _me;
    private readonly SnapshotHolder _snapshots;
    private readonly SnapshotWarmup _warmup;
    private readonly ServedConfiguration _served;
    private readonly IServer _server;
    private readonly IOptions<ClusterOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ClusterCoordinator> _logger;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Peer> _peers = new(StringComparer.Ordinal);
    private string? _lastError;

    public ClusterCoordinator(
        DatabaseConnector database, ClusterStore store, PushLease lease, InstanceIdentity me, SnapshotHolder snapshots, SnapshotWarmup warmup,
        ServedConfiguration served, IServer server, FsDirectoryMetrics metrics, IOptions<ClusterOptions> options,
        IOptions<EventSocketOptions> eventSocket, TimeProvider time, ILogger<ClusterCoordinator> logger)
    {
        _database = database;
        _store = store;
        _lease = lease;
        _me = me;
        _snapshots = snapshots;
        _warmup = warmup;
        _served = served;
        _server = server;
        _options = options;
        _time = time;
        _logger = logger;
        Coordinating = eventSocket.Value.Nodes.Count > 0;
        metrics.AddGauge("fsdir_esl_push_lease_held", "1 while this instance holds the push lease (of all instances sharing the database, one should).",
            () => lease.IsHolder ? 1 : 0);
        if (Coordinating)
        {
            // A new snapshot is published at once, so a pusher waiting for this instance is not held up for a whole round.
            snapshots.Swapped += (_, _) => _wake.Writer.TryWrite(true);
        }
    }

    /// <summary>Only instances that push take part: one without Event Socket nodes must never hold the lease.</summary>
    public bool Coordinating { get; }

    public ClusterStatus Status()
    {
        var mine = _warmup.Served is { } current ? _served.Digest(current) : null;
        lock (_gate)
        {
            var instances = _peers.Values
                .Select(p => new InstanceView(p.Row.InstanceId, p.Row.Address, p.Row.DatabaseNode, p.Row.SnapshotVersion,
                    mine is not null && p.Row.ServedDigest == mine, IsLive(p), _time.GetElapsedTime(p.BeatAt).TotalSeconds))
                .OrderBy(static v => v.InstanceId, StringComparer.Ordinal)
                .ToList();
            return new ClusterStatus(_me.Id, Coordinating, _lease.View(), instances, _lastError);
        }
    }

    /// <summary>
    /// Waits until every other live instance serves what <paramref name="digest"/> says this one
    /// serves now, for at most <see cref="ClusterOptions.PeerWait"/>; false when some still did not
    /// (the push goes ahead then).
    /// </summary>
    public async Task<bool> WaitForPeersAsync(Func<string> digest, CancellationToken ct)
    {
        var started = _time.GetTimestamp();
        while (true)
        {
            var lagging = Lagging(digest());
            if (lagging.Count == 0)
            {
                return true;
            }

            if (_time.GetElapsedTime(started) >= _options.Value.PeerWait)
            {
                LogPeersLagging(string.Join(", ", lagging), _options.Value.PeerWait.TotalSeconds);
                return false;
            }

            await Task.Delay(PeerPollInterval, _time, ct);
            try
            {
                await _database.RunAsync(async connection =>
                {
                    Observe(await _store.ReadInstancesAsync(connection, ct));
                    return true;
                }, ct);
            }
            catch (Exception ex) when (ex is MySqlException or InvalidOperationException || DatabaseConnector.IsNodeFailure(ex))
            {
                // The rows read last still decide; the wait is bounded either way.
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Coordinating)
        {
            return;
        }

        try
        {
            // Competing before there is anything to serve would make this the pusher of switches it cannot answer yet.
            while (_snapshots.Current is null)
            {
                await Task.Delay(PeerPollInterval, _time, stoppingToken);
            }

            var round = 0;
            while (!stoppingToken.IsCancellationRequested)
            {
                var delay = _options.Value.RenewInterval;
                var wasHolder = _lease.IsHolder;
                try
                {
                    await _database.RunAsync(connection => RoundAsync(connection, round++, stoppingToken), stoppingToken);
                    RecordError(null);
                }
                catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.NoSuchTable)
                {
                    RecordError("fsdir_lease/fsdir_instances are missing: apply sql/migrations/005_scale_out.sql; until then no instance pushes");
                    delay = MissingTableRetry;
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    RecordError($"{ex.GetType().Name}: {ex.Message}");
                }

                if (wasHolder && !_lease.IsHolder)
                {
                    LogStoppedPushing();
                }

                await WaitForRoundAsync(delay, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await LeaveAsync();
        }
    }

    private async Task<bool> RoundAsync(MySqlConnection connection, int round, CancellationToken ct)
    {
        var snapshot = _warmup.Served!;
        await _store.PublishAsync(connection, new InstanceRow
        {
            InstanceId = _me.Id,
            Address = Addresses(),
            DatabaseNode = _database.CurrentHost,
            SnapshotVersion = snapshot.Version,
            ServedDigest = _served.Digest(snapshot),
        }, ct);
        await _lease.TickAsync(connection, ct);
        Observe(await _store.ReadInstancesAsync(connection, ct));
        if (round % 3600 == 0 && _lease.IsHolder)
        {
            await _store.ForgetStaleAsync(connection, ct);
        }

        return true;
    }

    private async Task WaitForRoundAsync(TimeSpan delay, CancellationToken ct)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timer.CancelAfter(delay);
        try
        {
            if (await _wake.Reader.WaitToReadAsync(timer.Token))
            {
                _wake.Reader.TryRead(out _);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>On a clean stop the lease goes to the next instance at once, and this instance's row goes away.</summary>
    private async Task LeaveAsync()
    {
        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await _database.RunAsync(async connection =>
            {
                await _lease.ReleaseAsync(connection, budget.Token);
                await _store.RemoveAsync(connection, _me.Id, budget.Token);
                return true;
            }, budget.Token);
        }
        catch (Exception ex) when (ex is MySqlException or OperationCanceledException or InvalidOperationException || DatabaseConnector.IsNodeFailure(ex))
        {
            // The others take over after TakeoverAfter, and the row is forgotten after a day.
        }
    }

    /// <summary>
    /// Places each row's last heartbeat on this instance's monotonic clock: read time minus the age the
    /// database computed. A row is not taken as fresh just because this instance reads it for the first
    /// time (an instance killed long ago must not hold up a push for PeerWait). On Galera the age is
    /// the reading node's clock minus the writing node's, so it is off by their difference (NTP keeps
    /// that to milliseconds); a beat seen to move since the previous read was written after (about) that
    /// read, which no clock skew can move back, so a live peer is never judged older than that. Either error
    /// decides only whether a push waits (PeerWait bounds it), never who pushes: the lease reads no
    /// timestamp.
    /// </summary>
    private void Observe(IReadOnlyList<InstanceRow> rows)
    {
        var now = _time.GetTimestamp();
        lock (_gate)
        {
            var present = new HashSet<string>(StringComparer.Ordinal);
            foreach (var row in rows)
            {
                present.Add(row.InstanceId);
                var age = TimeSpan.FromMicroseconds(Math.Max(0, row.AgeMicroseconds));
                var beatAt = now - Math.Min(now, (long)(age.TotalSeconds * _time.TimestampFrequency));
                if (_peers.TryGetValue(row.InstanceId, out var known))
                {
                    // Moved: written after the previous read. Not moved: still the beat placed before.
                    beatAt = Math.Max(beatAt, known.Row.Beat != row.Beat ? known.ReadAt : known.BeatAt);
                }

                _peers[row.InstanceId] = new Peer(row, now, beatAt);
            }

            foreach (var gone in _peers.Keys.Where(id => !present.Contains(id)).ToList())
            {
                _peers.Remove(gone);
            }
        }
    }

    private List<string> Lagging(string digest)
    {
        lock (_gate)
        {
            return [.. _peers.Values
                .Where(p => p.Row.InstanceId != _me.Id && IsLive(p) && p.Row.ServedDigest != digest)
                .Select(static p => p.Row.InstanceId)];
        }
    }

    // A row whose heartbeat is as old as a lease would be taken over at belongs to a dead instance.
    private bool IsLive(Peer peer) =>
        peer.Row.InstanceId == _me.Id || _time.GetElapsedTime(peer.BeatAt) < _options.Value.TakeoverAfter;

    private string Addresses()
    {
        var addresses = _server.Features.Get<IServerAddressesFeature>()?.Addresses;
        var text = addresses is null ? string.Empty : string.Join(' ', addresses);
        return text.Length <= 200 ? text : text[..200];
    }

    private void RecordError(string? error)
    {
        bool changed;
        lock (_gate)
        {
            changed = _lastError != error;
            _lastError = error;
        }

        if (changed && error is not null)
        {
            LogRoundFailed(error);
        }
    }

    /// <summary>A row as last read, when (this instance's monotonic clock) and when its heartbeat was written, placed on the same clock.</summary>
    private readonly record struct Peer(InstanceRow Row, long ReadAt, long BeatAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cluster: {Error}")]
    private partial void LogRoundFailed(string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Push lease: not renewed within Cluster:HoldFor; this instance stops pushing until it holds the lease again")]
    private partial void LogStoppedPushing();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pushing although instance(s) {Instances} do not serve the change yet (waited {Seconds:F1} s): a switch whose binding reaches them first fetches the old configuration until the next push")]
    private partial void LogPeersLagging(string instances, double seconds);
}
