using System.Net.Sockets;
using System.Threading.Channels;
using FsDirectory.Cluster;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using Prometheus;

namespace FsDirectory.EventSocket;

/// <summary>What /api/status shows for one node.</summary>
public sealed record EventSocketNodeStatus(
    string Address,
    bool Connected,
    DateTimeOffset? ConnectedSince,
    string? LastCommand,
    DateTimeOffset? LastCommandAt,
    DateTimeOffset? LastSuccess,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    long CommandsSucceeded);

/// <summary>
/// One FreeSWITCH node: its own connection, its own queue of pending work and its own loop, so a
/// dead or slow node only ever delays itself. Work is coalesced: however many changes arrive
/// before the push, the node gets at most one <c>reloadacl</c> and one rescan per profile.
/// </summary>
public sealed partial class EventSocketNode
{
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
    private bool _aclPending;
    private DateTimeOffset _notBefore;
    private EslConnection? _connection;
    private int _authRefusals;
    private DateTimeOffset _authRetryAt;

    // Set when the node went away (or never came up): whatever it missed, a reloadacl on reconnect repairs.
    private bool _resyncOnConnect;
    private bool _pushingAcl;
    private long? _lastReloadTimestamp;

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
        _pipeline = BuildPipeline(options, time);
    }

    public string Address => _node.Address;

    /// <summary>
    /// Retry with back-off for a node that hiccups, a breaker so a dead node is not hammered (and
    /// fails fast while open), and a per-attempt budget that covers reconnecting plus the reply.
    /// </summary>
    private static ResiliencePipeline BuildPipeline(EventSocketOptions options, TimeProvider time)
    {
        var transient = new PredicateBuilder().Handle<IOException>().Handle<SocketException>().Handle<TimeoutRejectedException>();
        return new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = transient,
                MaxRetryAttempts = 2,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(150),
                MaxDelay = TimeSpan.FromSeconds(2),
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<IOException>().Handle<SocketException>().Handle<TimeoutRejectedException>().Handle<EslAuthenticationException>(),
                FailureRatio = 1.0,
                MinimumThroughput = 3,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = TimeSpan.FromSeconds(3),
            })
            .AddTimeout(options.ConnectTimeout + options.CommandTimeout)
            .Build();
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
                _lastSuccess, _lastError, _lastErrorAt, _succeeded);
        }
    }

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await KeepConnectedAsync(stoppingToken);
                if (HasPending() && _time.GetUtcNow() >= _notBefore)
                {
                    await PushPendingAsync(stoppingToken);
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

    private async Task WaitForWorkAsync(CancellationToken stoppingToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var delay = _options.ReconnectInterval;
        var untilRetry = _notBefore - _time.GetUtcNow();
        if (HasPending() && untilRetry > TimeSpan.Zero && untilRetry < delay)
        {
            delay = untilRetry;
        }

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
            // Timer: time to check the connection again.
        }
    }

    private async Task KeepConnectedAsync(CancellationToken stoppingToken)
    {
        if (_connection is { } open && open.PeerHasClosed())
        {
            await DropAsync("the node closed the connection");
        }

        if (_connection is null)
        {
            try
            {
                using var budget = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                budget.CancelAfter(_options.ConnectTimeout);
                await ConnectAsync(budget.Token);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && ex is IOException or SocketException or OperationCanceledException or EslAuthenticationException)
            {
                _resyncOnConnect = true;
                RecordError(null, ex);
            }
        }
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
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

        try
        {
            _connection = await EslConnection.OpenAsync(host, port, _node.Password, cancellationToken);
            _authRefusals = 0;
        }
        catch (EslAuthenticationException)
        {
            _authRefusals++;
            var wait = _options.ReconnectInterval * Math.Pow(2, Math.Min(_authRefusals - 1, 20));
            _authRetryAt = _time.GetUtcNow() + (wait < MaxAuthRetryInterval ? wait : MaxAuthRetryInterval);
            throw;
        }

        lock (_gate)
        {
            _connectedSince = _time.GetUtcNow();
        }

        LogConnected(_node.Address, _resyncOnConnect);
        if (_resyncOnConnect)
        {
            _resyncOnConnect = false;
            if (!_pushingAcl)
            {
                Request(reloadAcl: true, []);
            }
        }
    }

    private bool HasPending()
    {
        lock (_gate)
        {
            return _aclPending || _rescanPending.Count > 0;
        }
    }

    private async Task PushPendingAsync(CancellationToken stoppingToken)
    {
        // Let the burst finish, then respect the floor between two reloads on this node.
        await Task.Delay(_options.Debounce, _time, stoppingToken);
        bool acl;
        lock (_gate)
        {
            acl = _aclPending;
        }

        if (acl && _lastReloadTimestamp is { } last)
        {
            var wait = _options.MinReloadInterval - _time.GetElapsedTime(last);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, stoppingToken);
            }
        }

        string[] rescans;
        lock (_gate)
        {
            acl = _aclPending;
            rescans = [.. _rescanPending];
            _aclPending = false;
            _rescanPending.Clear();
        }

        if (!_lease.IsHolder)
        {
            // Another instance holds the push lock and pushes the same change.
            LogSkippedNotHolder(_node.Address);
            return;
        }

        var commands = new List<string>();
        if (acl)
        {
            commands.Add("reloadacl");
        }

        commands.AddRange(rescans.Select(static p => $"sofia profile {p} rescan"));
        for (var i = 0; i < commands.Count; i++)
        {
            if (!await SendAsync(commands[i], stoppingToken))
            {
                // Keep what was not delivered; it is retried (the breaker decides how soon it is tried for real).
                Request(commands.Skip(i).Contains("reloadacl"), rescans.Where(p => commands.Skip(i).Contains($"sofia profile {p} rescan")));
                _notBefore = _time.GetUtcNow() + _options.ReconnectInterval;
                return;
            }
        }
    }

    private async Task<bool> SendAsync(string command, CancellationToken stoppingToken)
    {
        var isReload = command == "reloadacl";
        lock (_gate)
        {
            _lastCommand = command;
            _lastCommandAt = _time.GetUtcNow();
        }

        _pushingAcl = isReload;
        try
        {
            var reply = await _pipeline.ExecuteAsync(
                static async (state, token) => await state.node.SendOnceAsync(state.command, token),
                (node: this, command),
                stoppingToken);
            if (isReload)
            {
                _lastReloadTimestamp = _time.GetTimestamp();
            }

            var firstLine = reply.Split('\n', 2)[0].Trim();
            if (firstLine.StartsWith("-ERR", StringComparison.Ordinal))
            {
                // The node is reachable but refused the command (e.g. an unknown profile): retrying will not help.
                Count(command, "refused");
                RecordError(command, new EslProtocolException(firstLine));
                return true;
            }

            Count(command, "ok");

            lock (_gate)
            {
                _lastSuccess = _time.GetUtcNow();
                _succeeded++;
            }

            LogCommandSent(_node.Address, command, firstLine);
            return true;
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            Count(command, "failed");
            RecordError(command, ex);
            return false;
        }
        finally
        {
            _pushingAcl = false;
        }
    }

    private void Count(string command, string result) =>
        _pushes.WithLabels(_node.Address, command.StartsWith("sofia ", StringComparison.Ordinal) ? "rescan" : command, result).Inc();

    private async ValueTask<string> SendOnceAsync(string command, CancellationToken cancellationToken)
    {
        try
        {
            if (_connection is null || _connection.PeerHasClosed())
            {
                await DropAsync(null);
                await ConnectAsync(cancellationToken);
            }

            return await _connection!.ApiAsync(command, cancellationToken);
        }
        catch
        {
            // A reply that arrives after a timeout would be read as the answer to the next command.
            await DropAsync(null);
            throw;
        }
    }

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
            BrokenCircuitException => "circuit open after repeated failures",
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Event Socket {Address}: connected (reloadacl on reconnect: {Resync})")]
    private partial void LogConnected(string address, bool resync);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event Socket {Address}: {Command} -> {Reply}")]
    private partial void LogCommandSent(string address, string command, string reply);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event Socket {Address}: {Command} failed: {Error}")]
    private partial void LogNodeError(string address, string command, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Event Socket {Address}: push skipped, another instance holds the push lock")]
    private partial void LogSkippedNotHolder(string address);
}
