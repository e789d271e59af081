using System.Threading.Channels;
using FsDirectory.Acl;
using FsDirectory.Data;
using Microsoft.Extensions.Options;

namespace FsDirectory.EventSocket;

/// <summary>
/// Turns snapshot swaps into Event Socket commands. The swap only wakes this loop; the loop compares
/// the last snapshot it planned from with the current one, so a burst of swaps coalesces into one
/// plan and the reloader never waits on the switches.
/// </summary>
public sealed partial class EventSocketPublisher : BackgroundService
{
    private readonly SnapshotHolder _holder;
    private readonly AclConfAnswers _acl;
    private readonly PushLease _lease;
    private readonly SnapshotWarmup _warmup;
    private readonly ILogger<EventSocketPublisher> _logger;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public EventSocketPublisher(SnapshotHolder holder, AclConfAnswers acl, PushLease lease, SnapshotWarmup warmup, IOptions<EventSocketOptions> options, TimeProvider time, ILoggerFactory loggers)
    {
        _holder = holder;
        _acl = acl;
        _lease = lease;
        _warmup = warmup;
        _logger = loggers.CreateLogger<EventSocketPublisher>();
        var nodeLogger = loggers.CreateLogger<EventSocketNode>();
        Nodes = [.. options.Value.Nodes.Select(n => new EventSocketNode(n, options.Value, lease, time, nodeLogger))];
        if (Nodes.Count > 0)
        {
            holder.Swapped += (_, _) => _wake.Writer.TryWrite(true);
            lease.TookOver += () =>
            {
                foreach (var node in Nodes)
                {
                    node.Request(reloadAcl: true, []);
                }
            };
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
        loops.Add(Task.Run(() => _lease.RunAsync(stoppingToken), stoppingToken));
        loops.Add(PlanLoopAsync(stoppingToken));
        await Task.WhenAll(loops);
    }

    private async Task PlanLoopAsync(CancellationToken stoppingToken)
    {
        // The first load is the switches' own start-up state: nothing to push for it.
        var first = _holder.Current;
        var plannedVersion = first?.Version;
        var planned = first is null ? null : PushBasis.Of(first, _acl);
        try
        {
            while (await _wake.Reader.WaitToReadAsync(stoppingToken))
            {
                _wake.Reader.TryRead(out _);
                var current = _holder.Current;
                if (current is null || current.Version == plannedVersion)
                {
                    continue;
                }

                // Planned against the acl.conf the switches will fetch, once it is built (in the background).
                current = await _warmup.WarmedAsync(current, stoppingToken);

                var basis = PushBasis.Of(current, _acl);
                plannedVersion = current.Version;
                if (planned is null)
                {
                    planned = basis;
                    continue;
                }

                var plan = PushPlan.Between(planned, basis);
                planned = basis;
                if (plan.IsEmpty)
                {
                    continue;
                }

                LogPlanned(current.Version, plan.ReloadAcl, string.Join(',', plan.RescanProfiles));
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
