using Microsoft.Extensions.Options;
using MySqlConnector;

namespace FsDirectory.Cluster;

/// <summary>What every instance shows of the lease: who holds it, which term, and how long ago its heartbeat last moved.</summary>
public sealed record LeaseView(string? Holder, long Term, double? SecondsSinceBeat, bool HeldHere);

/// <summary>
/// The election of the one instance that pushes to the switches, as a row in an InnoDB table (see
/// sql/migrations/005). The holder renews by bumping the row's beat; an instance that sees the
/// same term and beat for <see cref="ClusterOptions.TakeoverAfter"/> takes over with an UPDATE
/// conditioned on them, which exactly one contender can win, on one server (row lock) and on Galera
/// (certification). The holder stops pushing <see cref="ClusterOptions.HoldFor"/> after the start
/// of its last successful renewal, before anyone may take over.
/// </summary>
public sealed partial class PushLease(ClusterStore store, InstanceIdentity me, IOptions<ClusterOptions> options, TimeProvider time, ILogger<PushLease> logger)
{
    private readonly Lock _gate = new();
    private long _term;
    private long _validUntil;
    private LeaseRow? _seen;
    private long _seenSince;

    public bool IsHolder
    {
        get
        {
            lock (_gate)
            {
                return _term != 0 && time.GetTimestamp() < _validUntil;
            }
        }
    }

    /// <summary>
    /// Raised when this instance starts pushing after not pushing (its first lease, a takeover, or a
    /// renewal after its hold had lapsed): pushes may have been missed, so the switches need a full reload.
    /// </summary>
    public event Action? TookOver;

    public LeaseView View()
    {
        lock (_gate)
        {
            var age = _seen is null ? (double?)null : time.GetElapsedTime(_seenSince).TotalSeconds;
            return new LeaseView(_seen?.Holder, _seen?.Term ?? 0, age, _term != 0 && time.GetTimestamp() < _validUntil);
        }
    }

    /// <summary>One round: renew if this instance holds the lease, otherwise watch the holder and take over when it has gone quiet.</summary>
    public async Task TickAsync(MySqlConnection connection, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        long term;
        lock (_gate)
        {
            term = _term;
        }

        if (term != 0)
        {
            if (await store.RenewAsync(connection, me.Id, term, ct))
            {
                Held(term, started, new LeaseRow { Holder = me.Id, Term = term });
                return;
            }

            lock (_gate)
            {
                _term = 0;
            }

            LogLost(term);
        }

        var row = await store.ReadLeaseAsync(connection, ct);
        var quietFor = Observe(row, started);
        if (row.Holder is null || quietFor >= options.Value.TakeoverAfter)
        {
            if (await store.TakeOverAsync(connection, me.Id, row, ct))
            {
                LogTookOver(row.Term + 1, row.Holder ?? "nobody");
                Held(row.Term + 1, started, new LeaseRow { Holder = me.Id, Term = row.Term + 1 });
            }
        }
    }

    /// <summary>Lets the next instance take over at once instead of after <see cref="ClusterOptions.TakeoverAfter"/>.</summary>
    public async Task ReleaseAsync(MySqlConnection connection, CancellationToken ct)
    {
        long term;
        lock (_gate)
        {
            term = _term;
            _term = 0;
        }

        if (term != 0)
        {
            await store.ReleaseAsync(connection, me.Id, term, ct);
            LogReleased(term);
        }
    }

    private TimeSpan Observe(LeaseRow row, long now)
    {
        lock (_gate)
        {
            if (_seen is null || _seen.Holder != row.Holder || _seen.Term != row.Term || _seen.Beat != row.Beat)
            {
                _seen = row;
                _seenSince = now;
            }

            return time.GetElapsedTime(_seenSince, now);
        }
    }

    private void Held(long term, long renewalStarted, LeaseRow row)
    {
        bool resumed;
        lock (_gate)
        {
            // Not pushing until now (new term, or the hold lapsed while renewals failed): pushes may have been missed.
            resumed = _term != term || renewalStarted >= _validUntil;
            _term = term;
            _validUntil = renewalStarted + (long)(options.Value.HoldFor.TotalSeconds * time.TimestampFrequency);
            _seen = row;
            _seenSince = renewalStarted;
        }

        if (resumed)
        {
            TookOver?.Invoke();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Push lease: took over term {Term} from {Previous}; this instance pushes changes to the switches")]
    private partial void LogTookOver(long term, string previous);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Push lease: term {Term} was taken over by another instance; this instance stops pushing")]
    private partial void LogLost(long term);

    [LoggerMessage(Level = LogLevel.Information, Message = "Push lease: released term {Term}")]
    private partial void LogReleased(long term);
}
