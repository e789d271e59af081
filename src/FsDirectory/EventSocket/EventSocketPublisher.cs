using System.Threading.Channels;
using FsDirectory.Cluster;
using FsDirectory.Limits;
using FsDirectory.Metrics;
using FsDirectory.Snapshots;
using Microsoft.Extensions.Options;

namespace FsDirectory.EventSocket;

/// <summary>
/// Turns snapshot swaps into Event Socket commands. The swap only wakes this loop; the loop compares
/// the last snapshot it planned from with the current one, so a burst of swaps coalesces into one
/// plan and the reloader never waits on the switches. Only the lease holder pushes, and only once
/// every other live instance serves the change too.
/// </summary>
public sealed partial class EventSocketPublisher : BackgroundService
{
    private readonly SnapshotHolder _holder;
    private readonly ServedConfiguration _served;
    private readonly PushLease _lease;
    private readonly ClusterCoordinator _cluster;
    private readonly SnapshotWarmup _warmup;
    private readonly ILogger<EventSocketPublisher> _logger;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    // Set when this instance starts pushing: it may have missed changes, so the next plan reloads every node's ACL.
    private volatile bool _resync;

    public EventSocketPublisher(
        SnapshotHolder holder, ServedConfiguration served, PushLease lease, ClusterCoordinator cluster, SnapshotWarmup warmup, FsDirectoryMetrics metrics,
        IOptions<EventSocketOptions> options, IOptionsMonitor<LimitsOptions> limits, TimeProvider time, ILoggerFactory loggers)
    {
        _warmup = warmup;
        _holder = holder;
        _served = served;
        _lease = lease;
        _cluster = cluster;
        _logger = loggers.CreateLogger<EventSocketPublisher>();
        var nodeLogger = loggers.CreateLogger<EventSocketNode>();
        var all = options.Value.Nodes;
        Nodes = [.. all.Select(n => new EventSocketNode(n, options.Value, lease, metrics.EslPushes, time, nodeLogger)
        {
            HashRemotes = () => HashConfAnswers.RemotesToken(n, all, limits.CurrentValue),
        })];
        metrics.AddGauge("fsdir_esl_last_reload_seconds",
            "Seconds the last reloadacl took on each node, from bgapi to its BACKGROUND_JOB result (absent until one was seen).",
            "node", () => Nodes.Select(static n => (n.Address, n.LastReloadSeconds)).Where(static r => r.LastReloadSeconds is not null)
                .Select(static r => (r.Address, r.LastReloadSeconds!.Value)));
        metrics.AddGauge("fsdir_esl_job_in_flight",
            "1 while a reloadacl or profile rescan may still be running on the node: nothing else is sent to it meanwhile.",
            "node", () => Nodes.Select(static n => (n.Address, n.JobInFlight ? 1.0 : 0.0)));
        if (Nodes.Count > 0)
        {
            holder.Swapped += (_, _) => _wake.Writer.TryWrite(true);
            lease.TookOver += () =>
            {
                _resync = true;
                _wake.Writer.TryWrite(true);

                // The node list may differ from what the last holder gave the switches (a restart with new EventSocket:Nodes).
                foreach (var node in Nodes)
                {
                    node.RequestHashCheck();
                }
            };

            // Limits turned on or off, or RemoteInterval changed, without a restart.
            limits.OnChange(_ =>
            {
                foreach (var node in Nodes)
                {
                    node.RequestHashCheck();
                }
            });
        }
    }

    public IReadOnlyList<EventSocketNode> Nodes { get; }

    public bool IsPushing => _lease.IsHolder;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Nodes.Count == 0)
        {
            return;
        }

        var loops = Nodes.Select(n => Task.Run(() => n.RunAsync(stoppingToken), stoppingToken)).ToList();
        loops.Add(PlanLoopAsync(stoppingToken));
        await Task.WhenAll(loops);
    }

    private async Task PlanLoopAsync(CancellationToken stoppingToken)
    {
        // The first load is the switches' own start-up state: nothing to push for it (a new lease holder resyncs anyway).
        PushBasis? planned = null;
        long? plannedVersion = null;
        try
        {
            while (await _wake.Reader.WaitToReadAsync(stoppingToken))
            {
                _wake.Reader.TryRead(out _);
                var current = _holder.Current;
                if (current is null || (current.Version == plannedVersion && !_resync))
                {
                    continue;
                }

                // Planned against the acl.conf the switches will fetch, once it is built (in the background).
                current = await _warmup.WarmedAsync(current, stoppingToken);
                var basis = PushBasis.Of(current, _served);
                var plan = planned is null ? new PushPlan(false, []) : PushPlan.Between(planned, basis);

                // Not the holder: the holder pushes this change; if this instance takes over later it resyncs.
                if (!_lease.IsHolder || (plan.IsEmpty && !_resync))
                {
                    planned = basis;
                    plannedVersion = current.Version;
                    continue;
                }

                // The switches fetch from whichever instance their binding reaches first. If this
                // instance's own snapshot moves on meanwhile (a burst still arriving), the others are
                // awaited on the newer one, and the push below covers it too.
                await _cluster.WaitForPeersAsync(() => _served.Digest(_warmup.Served!), stoppingToken);
                var latest = _warmup.Served!;
                var latestBasis = PushBasis.Of(latest, _served);
                plan = planned is null ? new PushPlan(false, []) : PushPlan.Between(planned, latestBasis);
                if (_resync)
                {
                    _resync = false;
                    plan = plan with { ReloadAcl = true };
                }

                planned = latestBasis;
                plannedVersion = latest.Version;
                if (plan.IsEmpty)
                {
                    continue;
                }

                LogPlanned(latest.Version, plan.ReloadAcl, string.Join(',', plan.RescanProfiles));
                foreach (var node in Nodes)
                {
                    node.Request(plan.ReloadAcl, plan.RescanProfiles);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot {Version}: push reloadacl={ReloadAcl}, rescan profiles [{Profiles}]")]
    private partial void LogPlanned(long version, bool reloadAcl, string profiles);
}
