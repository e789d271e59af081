using System.Globalization;
using System.Net.Sockets;
using System.Threading.Channels;
using FsDirectory.Cluster;
using Polly;
using Polly.Timeout;
using Prometheus;

namespace FsDirectory.EventSocket;

/// <summary>What /api/status shows for one node.</summary>
/// <param name="JobInFlight">The <c>reloadacl</c> or rescan that may still be running on the switch (nothing else is sent meanwhile).</param>
/// <param name="JobStartedHere">False when the job was found on the switch, started by another instance (or by this service before a restart).</param>
/// <param name="LastReloadSeconds">From sending the last <c>reloadacl</c> whose result was seen to its BACKGROUND_JOB result.</param>
/// <param name="SwitchCoreUuid">The switch's <c>core_uuid</c>: it changes when the switch restarts.</param>
public sealed record EventSocketNodeStatus(
    string Address,
    bool Connected,
    DateTimeOffset? ConnectedSince,
    string? LastCommand,
    DateTimeOffset? LastCommandAt,
    DateTimeOffset? LastSuccess,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    long CommandsSucceeded,
    string? JobInFlight = null,
    DateTimeOffset? JobInFlightSince = null,
    bool? JobStartedHere = null,
    double? LastReloadSeconds = null,
    DateTimeOffset? LastReloadAt = null,
    string? SwitchCoreUuid = null);

/// <summary>
/// One FreeSWITCH node: its own connection, its own queue of pending work and its own loop, so a
/// dead or slow node only ever delays itself.
/// <para>
/// At most one <c>reloadacl</c> or profile rescan is outstanding per switch, ever. Each is sent
/// with <c>bgapi</c>, not <c>api</c>: a reload takes 22-63 s at 100k rules on a real switch, and a
/// blocking <c>api</c> that outlives its timeout is still running there, so resending it on
/// reconnect stacked 43 reloads in 22 minutes. With bgapi the switch acknowledges at once and
/// announces the end with a BACKGROUND_JOB event carrying our Job-UUID. A job belongs to the switch,
/// not to the connection: when its event is missed (the connection dropped, this service restarted)
/// it is treated as running until <see cref="EventSocketOptions.JobTimeout"/> after its start, or
/// until the switch shows a new <c>core_uuid</c> (a restart ends every job). So that another
/// instance, or this one after a restart, knows too, the job is also written on the switch itself
/// as a global variable (<see cref="JobMarker"/>) before it is started, and cleared when its result is seen.
/// </para>
/// Whatever arrives while a job runs is coalesced: the next job is one <c>reloadacl</c>, then one
/// rescan per profile, however many changes came.
/// </summary>
public sealed partial class EventSocketNode
{
    public const string ReloadAcl = "reloadacl";
    private static readonly TimeSpan MaxAuthRetryInterval = TimeSpan.FromMinutes(5);
    private readonly EventSocketNodeOptions _node;
    private readonly EventSocketOptions _options;
    private readonly PushLease _lease;
    private readonly Counter _pushes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _pipeline;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _gate = new();
    private readonly SortedSet<string> _rescanPending = new(StringComparer.Ordinal);

    // Job-UUIDs whose BACKGROUND_JOB was seen lately: a marker naming one of them is not adopted.
    private readonly Queue<string> _finishedJobs = new();
    private bool _aclPending;

    // Set on each connect and when this instance takes the lease: the switch's mod_hash remotes are checked (Limits).
    private bool _hashCheckPending;
    private DateTimeOffset _notBefore;
    private EslConnection? _connection;
    private int _authRefusals;
    private DateTimeOffset _authRetryAt;
    private int _connectFailures;
    private DateTimeOffset _nextConnectAt;

    // Set when the node went away (or never came up): a switch that restarted meanwhile gets a reloadacl.
    private bool _resyncOnConnect;
    private JobMarker? _job;

    // The connection a job of ours was started on: while it stays open, its BACKGROUND_JOB cannot have been missed.
    private EslConnection? _jobConnection;
    private bool _jobOverdueLogged;
    private bool _clearMarker;
    private string? _coreUuid;
    private long? _lastReloadEnded;
    private TimeSpan _lastReloadDuration;
    private DateTimeOffset? _lastReloadAt;

    private DateTimeOffset? _connectedSince;
    private string? _lastCommand;
    private DateTimeOffset? _lastCommandAt;
    private DateTimeOffset? _lastSuccess;
    private string? _lastError;
    private DateTimeOffset? _lastErrorAt;
    private long _succeeded;

    public EventSocketNode(EventSocketNodeOptions node, EventSocketOptions options, PushLease lease, Counter pushes, TimeProvider time, ILogger logger)
    {
        _node = node;
        _options = options;
        _lease = lease;
        _pushes = pushes;
        _time = time;
        _logger = logger;

        // Only a per-exchange budget, no retry: an exchange whose reply was lost may have started a
        // job, and retrying it is exactly the resend this class exists to prevent. A dead node is
        // paced by the reconnect back-off instead of a circuit breaker.
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }.AddTimeout(options.CommandTimeout).Build();
    }

    public string Address => _node.Address;

    /// <summary>What this switch's mod_hash remotes should be now (<see cref="Limits.HashConfAnswers.RemotesToken"/>); empty: none.</summary>
    public Func<string> HashRemotes { get; init; } = static () => string.Empty;

    /// <summary>Checks the switch's mod_hash remotes against <see cref="HashRemotes"/> (and fixes them) once the node is idle.</summary>
    public void RequestHashCheck()
    {
        lock (_gate)
        {
            _hashCheckPending = true;
        }

        _wake.Writer.TryWrite(true);
    }

    /// <summary>Queues work for this node; returns at once.</summary>
    public void Request(bool reloadAcl, IEnumerable<string> rescanProfiles)
    {
        lock (_gate)
        {
            _aclPending |= reloadAcl;
            _rescanPending.UnionWith(rescanProfiles);
        }

        _wake.Writer.TryWrite(true);
    }

    public EventSocketNodeStatus Status()
    {
        lock (_gate)
        {
            return new EventSocketNodeStatus(_node.Address, _connectedSince is not null, _connectedSince, _lastCommand, _lastCommandAt,
                _lastSuccess, _lastError, _lastErrorAt, _succeeded, _job?.Command, _job?.StartedAt, _job?.StartedHere,
                _lastReloadAt is null ? null : _lastReloadDuration.TotalSeconds, _lastReloadAt, _coreUuid);
        }
    }

    /// <summary>Seconds the last <c>reloadacl</c> took on the switch, or null before the first one whose result was seen.</summary>
    public double? LastReloadSeconds
    {
        get
        {
            lock (_gate)
            {
                return _lastReloadAt is null ? null : _lastReloadDuration.TotalSeconds;
            }
        }
    }

    public bool JobInFlight
    {
        get
        {
            lock (_gate)
            {
                return _job is not null;
            }
        }
    }

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await KeepConnectedAsync(stoppingToken);
                ExpireJob();
                await ClearMarkerAsync(stoppingToken);
                await SyncHashRemotesAsync(stoppingToken);
                if (CanStartJob())
                {
                    await StartNextJobAsync(stoppingToken);
                    continue;
                }

                await WaitForWorkAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await DropAsync(null);
        }
    }

    private bool CanStartJob()
    {
        lock (_gate)
        {
            return _connection is { IsOpen: true } && _job is null && !_clearMarker && (_aclPending || _rescanPending.Count > 0)
                && _time.GetUtcNow() >= _notBefore;
        }
    }

    private async Task WaitForWorkAsync(CancellationToken stoppingToken)
    {
        var now = _time.GetUtcNow();
        var delay = _options.ReconnectInterval;
        lock (_gate)
        {
            if (_connection is null)
            {
                delay = _nextConnectAt - now;
            }

            if (_job is not null && _job.StartedAt + _options.JobTimeout - now is { } untilExpiry && untilExpiry > TimeSpan.Zero)
            {
                delay = Min(delay, untilExpiry);
            }
            else if ((_aclPending || _rescanPending.Count > 0) && _notBefore > now)
            {
                delay = Min(delay, _notBefore - now);
            }
        }

        if (delay <= TimeSpan.Zero)
        {
            return;
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        wait.CancelAfter(delay);
        try
        {
            if (await _wake.Reader.WaitToReadAsync(wait.Token))
            {
                _wake.Reader.TryRead(out _);
            }
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // Timer: time to check the connection, the job and the queue again.
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private async Task KeepConnectedAsync(CancellationToken stoppingToken)
    {
        if (_connection is { IsOpen: false })
        {
            await DropAsync("the node closed the connection");
        }

        if (_connection is not null || _time.GetUtcNow() < _nextConnectAt)
        {
            return;
        }

        try
        {
            await ConnectAsync(stoppingToken);
            _connectFailures = 0;
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested && IsConnectionFailure(ex))
        {
            // Each attempt during a reload parks a thread on the switch until its ACL lock is free: back off.
            _connectFailures++;
            var wait = _options.ReconnectInterval * Math.Pow(2, Math.Min(_connectFailures - 1, 20));
            _nextConnectAt = _time.GetUtcNow() + (wait < _options.MaxReconnectInterval ? wait : _options.MaxReconnectInterval);
            _resyncOnConnect = true;
            RecordError(null, ex);
        }
    }

    // Whatever a peer that closes, stalls or talks nonsense can cause: the node's loop goes on.
    private static bool IsConnectionFailure(Exception ex) =>
        ex is IOException or SocketException or OperationCanceledException or EslAuthenticationException or TimeoutRejectedException
            or ObjectDisposedException or ChannelClosedException;

    private async Task ConnectAsync(CancellationToken stoppingToken)
    {
        if (!_node.TryGetEndpoint(out var host, out var port))
        {
            throw new IOException("invalid address");
        }

        // A refused password does not fix itself: knocking every ReconnectInterval would only fill the
        // switch's log with failed logins (and trip fail2ban where it watches them). Wait twice as
        // long after each refusal, up to MaxAuthRetryInterval; a restart with the right password resets it.
        if (_time.GetUtcNow() < _authRetryAt)
        {
            throw new EslAuthenticationException($"authentication refused; not retried before {_authRetryAt:HH:mm:ss} UTC");
        }

        EslConnection connection;
        try
        {
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            budget.CancelAfter(_options.ConnectTimeout);
            connection = await EslConnection.OpenAsync(host, port, _node.Password, OnEvent, () => _wake.Writer.TryWrite(true), budget.Token);
            _authRefusals = 0;
        }
        catch (EslAuthenticationException)
        {
            _authRefusals++;
            var wait = _options.ReconnectInterval * Math.Pow(2, Math.Min(_authRefusals - 1, 20));
            _authRetryAt = _time.GetUtcNow() + (wait < MaxAuthRetryInterval ? wait : MaxAuthRetryInterval);
            throw;
        }

        string core;
        string marker;
        try
        {
            // Subscribed before the marker is read, so a job that ends after the read is seen ending.
            await _pipeline.ExecuteAsync(static async (c, token) => await c.SubscribeBackgroundJobsAsync(token), connection, stoppingToken);
            core = (await _pipeline.ExecuteAsync(static async (c, token) => await c.ApiAsync("global_getvar core_uuid", token), connection, stoppingToken)).Trim();
            marker = (await _pipeline.ExecuteAsync(static async (c, token) => await c.ApiAsync("global_getvar " + JobMarker.Variable, token), connection, stoppingToken)).Trim();

            // An Event Socket user limited by an api allow-list gets "-ERR permission denied": no
            // core_uuid then, so every reconnect resyncs (one job at a time still).
            if (core.StartsWith('-'))
            {
                core = string.Empty;
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        bool restarted;
        bool resync;
        JobMarker? ended = null;
        JobMarker? adopted = null;
        lock (_gate)
        {
            var known = _coreUuid;
            restarted = core.Length > 0 && known is not null && known != core;
            if (restarted && _job is not null)
            {
                ended = _job;
                _job = null;
            }

            if (_job is null && JobMarker.TryParse(marker, out var found) && !_finishedJobs.Contains(found.JobUuid)
                && _time.GetUtcNow() < found.StartedAt + _options.JobTimeout)
            {
                _job = adopted = found;
            }

            _coreUuid = core.Length > 0 ? core : null;
            resync = _resyncOnConnect && (known is null || restarted || core.Length == 0);
            _connection = connection;
            _connectedSince = _time.GetUtcNow();
        }

        _resyncOnConnect = false;
        lock (_gate)
        {
            _hashCheckPending = true;
        }

        LogConnected(_node.Address, core, resync);
        if (ended is not null)
        {
            LogJobEndedByRestart(_node.Address, ended.Command);
            if (ended.StartedHere)
            {
                Count(ended.Command, "failed");
            }
        }

        if (adopted is not null)
        {
            LogJobAdopted(_node.Address, adopted.Command, adopted.StartedAt);
        }

        if (resync)
        {
            Request(reloadAcl: true, []);
        }
    }

    /// <summary>A BACKGROUND_JOB (on the reader): the job it names is over, whoever started it.</summary>
    private void OnEvent(EslMessage message)
    {
        if (message.PlainEvent() is not { } e || e.Headers.GetValueOrDefault("Event-Name") != "BACKGROUND_JOB"
            || e.Headers.GetValueOrDefault("Job-UUID") is not { Length: > 0 } jobUuid)
        {
            return;
        }

        JobMarker? done;
        var reply = e.Body.Split('\n', 2)[0].Trim();
        var refused = reply.StartsWith("-ERR", StringComparison.Ordinal);
        TimeSpan took = default;
        lock (_gate)
        {
            _finishedJobs.Enqueue(jobUuid);
            if (_finishedJobs.Count > 32)
            {
                _finishedJobs.Dequeue();
            }

            done = _job?.JobUuid == jobUuid ? _job : null;
            if (done is null)
            {
                return;
            }

            _job = null;
            _clearMarker = true;
            took = _time.GetUtcNow() - done.StartedAt;
            if (done.Command == ReloadAcl)
            {
                _lastReloadDuration = took;
                _lastReloadAt = _time.GetUtcNow();
                _lastReloadEnded = _time.GetTimestamp();
            }

            if (done.StartedHere && !refused)
            {
                _lastSuccess = _time.GetUtcNow();
                _succeeded++;
            }
        }

        if (done.StartedHere)
        {
            Count(done.Command, refused ? "refused" : "ok");
        }

        if (refused)
        {
            // The node is reachable but refused the command (e.g. an unknown profile): retrying will not help.
            RecordError(done.Command, new EslProtocolException(reply));
        }

        LogJobDone(_node.Address, done.Command, reply, took.TotalSeconds);
        _wake.Writer.TryWrite(true);
    }

    /// <summary>
    /// A job whose result may have been missed is treated as over JobTimeout after its start; one
    /// started here is then sent again. While the connection it was started on stays open, its result
    /// cannot have been missed (FreeSWITCH queues the event to every subscribed connection), so it
    /// is waited for however long it takes: a switch parsing a huge list is still holding its lock.
    /// </summary>
    private void ExpireJob()
    {
        JobMarker? expired;
        string? overdue = null;
        lock (_gate)
        {
            expired = _job is not null && _time.GetUtcNow() >= _job.StartedAt + _options.JobTimeout ? _job : null;
            if (expired is null)
            {
                return;
            }

            if (expired.StartedHere && _jobConnection is { IsOpen: true } watched && ReferenceEquals(watched, _connection))
            {
                overdue = _jobOverdueLogged ? null : expired.Command;
                _jobOverdueLogged = true;
                expired = null;
            }
            else
            {
                _job = null;
            }
        }

        if (overdue is not null)
        {
            LogJobOverdue(_node.Address, overdue, _options.JobTimeout.TotalSeconds);
        }

        if (expired is null)
        {
            return;
        }

        LogJobExpired(_node.Address, expired.Command, _options.JobTimeout.TotalSeconds);
        if (expired.StartedHere)
        {
            Count(expired.Command, "failed");
            RecordError(expired.Command, new TimeoutException($"no result within EventSocket:JobTimeout ({_options.JobTimeout.TotalSeconds:F0} s)"));
            Request(expired.Command == ReloadAcl, expired.Command == ReloadAcl ? [] : [expired.Profile!]);
        }
    }

    /// <summary>Once a job's result is seen, its marker goes, so that nobody waits for it after a restart.</summary>
    private async Task ClearMarkerAsync(CancellationToken stoppingToken)
    {
        lock (_gate)
        {
            if (!_clearMarker || _connection is not { IsOpen: true } || _job is not null)
            {
                return;
            }

            _clearMarker = false;
        }

        // Only the pusher writes on the switch; an instance that merely watched leaves it to the pusher.
        if (!_lease.IsHolder)
        {
            return;
        }

        try
        {
            await _pipeline.ExecuteAsync(static async (c, token) => await c.ApiAsync("global_setvar " + JobMarker.Variable + "=", token), _connection!, stoppingToken);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested && IsConnectionFailure(ex))
        {
            // A marker left behind only makes a later reader wait out JobTimeout from its start.
            RecordError("global_setvar", ex);
        }
    }

    private async Task StartNextJobAsync(CancellationToken stoppingToken)
    {
        // Let the burst finish.
        await Task.Delay(_options.Debounce, _time, stoppingToken);
        string command;
        string? profile = null;
        lock (_gate)
        {
            if (_aclPending)
            {
                command = ReloadAcl;

                // The switch gets at least as long without a reload as the last one held its ACL lock.
                var gap = _lastReloadDuration > _options.MinReloadInterval ? _lastReloadDuration : _options.MinReloadInterval;
                if (_lastReloadEnded is { } ended && _time.GetElapsedTime(ended) < gap)
                {
                    _notBefore = _time.GetUtcNow() + gap - _time.GetElapsedTime(ended);
                    return;
                }
            }
            else if (_rescanPending.Count > 0)
            {
                profile = _rescanPending.Min!;
                command = $"sofia profile {profile} rescan";
            }
            else
            {
                return;
            }

            if (!_lease.IsHolder)
            {
                // Another instance holds the push lock and pushes the same change.
                _aclPending = false;
                _rescanPending.Clear();
            }
            else if (profile is null)
            {
                _aclPending = false;
            }
            else
            {
                _rescanPending.Remove(profile);
            }
        }

        if (!_lease.IsHolder)
        {
            LogSkippedNotHolder(_node.Address);
            return;
        }

        await SendJobAsync(new JobMarker(Guid.NewGuid().ToString(), command == ReloadAcl ? ReloadAcl : JobMarker.Rescan, _time.GetUtcNow(), true, profile), command, stoppingToken);
    }

    private async Task SendJobAsync(JobMarker job, string command, CancellationToken stoppingToken)
    {
        lock (_gate)
        {
            _lastCommand = command;
            _lastCommandAt = _time.GetUtcNow();
        }

        var connection = _connection!;
        try
        {
            await _pipeline.ExecuteAsync(static async (state, token) => await state.connection.ApiAsync($"global_setvar {JobMarker.Variable}={state.job}", token),
                (connection, job), stoppingToken);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested && IsConnectionFailure(ex))
        {
            // Nothing that runs a job reached the switch: keep the command for the next connection.
            Count(command, "failed");
            RecordError(command, ex);
            Request(job.Command == ReloadAcl, job.Profile is null ? [] : [job.Profile]);
            _notBefore = _time.GetUtcNow() + _options.ReconnectInterval;
            return;
        }

        // From here on the switch may run the command, whatever becomes of the acknowledgement.
        lock (_gate)
        {
            _job = job;
            _jobConnection = connection;
            _jobOverdueLogged = false;
        }

        try
        {
            var reply = await _pipeline.ExecuteAsync(static async (state, token) => await state.connection.BackgroundApiAsync(state.command, state.job.JobUuid, token),
                (connection, command, job), stoppingToken);
            if (!reply.StartsWith("+OK", StringComparison.Ordinal))
            {
                // e.g. "-ERR permission denied" from an event_socket.conf api allow-list: nothing runs.
                lock (_gate)
                {
                    _job = null;
                    _clearMarker = true;
                }

                Count(command, "refused");
                RecordError(command, new EslProtocolException(reply));
                return;
            }

            LogJobStarted(_node.Address, command, job.JobUuid);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested && IsConnectionFailure(ex))
        {
            // Unknown whether it started: it counts as running until its result, a switch restart, or JobTimeout.
            RecordError(command, ex);
        }
    }

    /// <summary>
    /// Between jobs only (a rescan fetches hash.conf, and a running reloadacl may hold the XML lock the
    /// fetch waits on), and only on the lease holder, as every push; the lease's new holder checks again.
    /// </summary>
    private async Task SyncHashRemotesAsync(CancellationToken stoppingToken)
    {
        lock (_gate)
        {
            if (!_hashCheckPending || _connection is not { IsOpen: true } || _job is not null)
            {
                return;
            }

            _hashCheckPending = false;
        }

        if (!_lease.IsHolder)
        {
            return;
        }

        var connection = _connection;
        try
        {
            var refused = await Limits.HashRemoteSync.RunAsync(
                (command, token) => _pipeline.ExecuteAsync(static async (state, t) => await state.connection.ApiAsync(state.command, t), (connection, command), token).AsTask(),
                HashRemotes(), stoppingToken);
            _pushes.WithLabels(_node.Address, "hash_remote", refused is null ? "ok" : "refused").Inc();
            if (refused is not null)
            {
                RecordError(Limits.HashRemoteSync.Variable, new EslProtocolException(refused));
            }
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested && IsConnectionFailure(ex))
        {
            // Idempotent: checked again on the next connection.
            _pushes.WithLabels(_node.Address, "hash_remote", "failed").Inc();
            RecordError(Limits.HashRemoteSync.Variable, ex);
        }
    }

    private void Count(string command, string result) =>
        _pushes.WithLabels(_node.Address, command == ReloadAcl ? ReloadAcl : JobMarker.Rescan, result).Inc();

    private async Task DropAsync(string? reason)
    {
        if (_connection is null)
        {
            return;
        }

        await _connection.DisposeAsync();
        _connection = null;
        _resyncOnConnect = true;
        lock (_gate)
        {
            _connectedSince = null;
        }

        if (reason is not null)
        {
            RecordError(null, new IOException(reason));
        }
    }

    private void RecordError(string? command, Exception ex)
    {
        var message = ex switch
        {
            TimeoutRejectedException or OperationCanceledException => "timed out",
            _ => ex.Message,
        };
        bool changed;
        lock (_gate)
        {
            changed = _lastError != message;
            _lastError = message;
            _lastErrorAt = _time.GetUtcNow();
        }

        // A dead node is retried every ReconnectInterval; log the change of state, not every attempt.
        if (changed)
        {
            LogNodeError(_node.Address, command ?? "connect", message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Event Socket {Address}: connected, core_uuid {CoreUuid} (reloadacl on reconnect: {Resync})")]
    private partial void LogConnected(string address, string coreUuid, bool resync);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event Socket {Address}: bgapi {Command} started, Job-UUID {JobUuid}")]
    private partial void LogJobStarted(string address, string command, string jobUuid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event Socket {Address}: {Command} -> {Reply} after {Seconds:F1} s")]
    private partial void LogJobDone(string address, string command, string reply, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event Socket {Address}: no result for {Command} within EventSocket:JobTimeout ({Seconds:F0} s); treated as over")]
    private partial void LogJobExpired(string address, string command, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event Socket {Address}: {Command} has run longer than EventSocket:JobTimeout ({Seconds:F0} s); the connection it was sent on is open, so its result is still awaited and nothing else is sent")]
    private partial void LogJobOverdue(string address, string command, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event Socket {Address}: the switch restarted (new core_uuid); its {Command} ended with it")]
    private partial void LogJobEndedByRestart(string address, string command);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event Socket {Address}: a {Command} started {StartedAt:O} may still run on the switch; nothing is sent until it ends")]
    private partial void LogJobAdopted(string address, string command, DateTimeOffset startedAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event Socket {Address}: {Command} failed: {Error}")]
    private partial void LogNodeError(string address, string command, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Event Socket {Address}: push skipped, another instance holds the push lock")]
    private partial void LogSkippedNotHolder(string address);
}

/// <summary>
/// A job that may be running on a switch, as written there in the global variable
/// <see cref="Variable"/> (<c>global_setvar</c>/<c>global_getvar</c> take a read-write lock of their
/// own, not the global mutex a reload holds): <c>Job-UUID;start in Unix ms;reloadacl|rescan</c>.
/// Global variables die with the switch process, so a restarted switch shows none.
/// </summary>
public sealed record JobMarker(string JobUuid, string Command, DateTimeOffset StartedAt, bool StartedHere, string? Profile = null)
{
    public const string Variable = "fsdir_push_job";
    public const string Rescan = "rescan";

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{JobUuid};{StartedAt.ToUnixTimeMilliseconds()};{Command}");

    /// <summary>Reads a marker; anything else (empty, another tool's value, garbage) is no marker.</summary>
    public static bool TryParse(string text, out JobMarker marker)
    {
        marker = null!;
        var parts = text.Split(';');
        if (parts.Length != 3 || !Guid.TryParse(parts[0], out _) || parts[2] is not (EventSocketNode.ReloadAcl or Rescan)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ms) || ms > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            return false;
        }

        marker = new JobMarker(parts[0], parts[2], DateTimeOffset.FromUnixTimeMilliseconds(ms), false);
        return true;
    }
}
