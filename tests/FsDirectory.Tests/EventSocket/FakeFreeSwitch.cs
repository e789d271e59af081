using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FsDirectory.Tests.EventSocket;

/// <summary>
/// A small FreeSWITCH Event Socket (mod_event_socket, inbound) on loopback: greets with
/// auth/request, checks the password, answers <c>api</c> with api/response and <c>bgapi</c> with a
/// command/reply, then a BACKGROUND_JOB event to every connection subscribed with
/// <c>event plain BACKGROUND_JOB</c> (as FreeSWITCH does: the job belongs to the switch, not to the
/// connection). It keeps global variables (<c>global_getvar</c>/<c>global_setvar</c>) and a
/// <c>core_uuid</c> for as long as the "process" lives, and records every other command.
/// <para>
/// A <see cref="ReloadDelay"/> makes <c>reloadacl</c> slow, like a real switch at 100k rules, and
/// with <see cref="RefuseWhileReloading"/> no new connection gets in while one runs (FreeSWITCH's
/// own Event Socket ACL check waits on the lock the reload holds). It can be stopped and started
/// again on the same port, like a restarted switch (a new core_uuid, no variables, no jobs).
/// </para>
/// </summary>
public sealed class FakeFreeSwitch : IAsyncDisposable
{
    private readonly ConcurrentQueue<(string Command, long Timestamp)> _commands = new();
    private readonly ConcurrentDictionary<Peer, bool> _clients = new();
    private readonly ConcurrentDictionary<string, string> _variables = new(StringComparer.Ordinal);
    private readonly Lock _reloadGate = new();
    private CancellationTokenSource _finishReloads = new();
    private TcpListener? _listener;
    private CancellationTokenSource? _stop;
    private int _authFailures;
    private int _authSuccesses;
    private int _refused;
    private int _reloadsRunning;
    private int _maxReloadsRunning;
    private int _reloadsStartedWhileRunning;
    private int _reloadsCompleted;

    private FakeFreeSwitch(string password) => Password = password;

    public string Password { get; }
    public int Port { get; private set; }
    public string Address => $"127.0.0.1:{Port}";
    public int AuthFailures => Volatile.Read(ref _authFailures);
    public int AuthSuccesses => Volatile.Read(ref _authSuccesses);
    public IReadOnlyList<string> Commands => [.. _commands.Select(c => c.Command)];
    public int Count(string command) => _commands.Count(c => c.Command == command);

    /// <summary>How long <c>reloadacl</c> takes before it answers (api) or its BACKGROUND_JOB fires (bgapi).</summary>
    public TimeSpan ReloadDelay { get; set; }

    /// <summary>While a reload runs, new connections are closed before the greeting.</summary>
    public bool RefuseWhileReloading { get; set; }

    public string CoreUuid { get; private set; } = Guid.NewGuid().ToString();

    /// <summary>Connections closed unanswered because a reload was running.</summary>
    public int RefusedConnections => Volatile.Read(ref _refused);

    public int ReloadsRunning => Volatile.Read(ref _reloadsRunning);

    /// <summary>The most reloads that ever ran at once (FreeSWITCH would queue a second one behind the first's lock).</summary>
    public int MaxReloadsRunning => Volatile.Read(ref _maxReloadsRunning);

    /// <summary>Reloads that arrived while another was still running: each is a resend the pusher must never make.</summary>
    public int ReloadsStartedWhileRunning => Volatile.Read(ref _reloadsStartedWhileRunning);

    public int ReloadsCompleted => Volatile.Read(ref _reloadsCompleted);

    public string? Variable(string name) => _variables.GetValueOrDefault(name);

    /// <summary>Ends every running reload now, as if it had taken exactly this long (a test steps through without timing races).</summary>
    public void FinishRunningReloads() => Interlocked.Exchange(ref _finishReloads, new CancellationTokenSource()).Cancel();

    /// <summary>Stopwatch timestamps at which a command arrived.</summary>
    public IReadOnlyList<long> Arrivals(string command) => [.. _commands.Where(c => c.Command == command).Select(c => c.Timestamp)];

    public static FakeFreeSwitch Start(string password = "ClueCon")
    {
        var fake = new FakeFreeSwitch(password);
        fake.Listen(0);
        return fake;
    }

    /// <summary>A port where nothing listens: connections are refused, like a switch whose Event Socket is down.</summary>
    public static int ClosedPort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    /// <summary>Starts again on the same port as a new switch process: a new core_uuid, no global variables.</summary>
    public void Restart()
    {
        CoreUuid = Guid.NewGuid().ToString();
        _variables.Clear();
        Listen(Port);
    }

    /// <summary>Forgets the commands received so far (a test counts only what its own change caused).</summary>
    public void ClearCommands() => _commands.Clear();

    private void Listen(int port)
    {
        _stop = new CancellationTokenSource();
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = AcceptLoopAsync(listener, _stop.Token);
    }

    /// <summary>Closes the listener and every connection, and ends every job unannounced, like a switch that died.</summary>
    public void Stop()
    {
        _stop?.Cancel();
        _listener?.Stop();
        DropConnections();
    }

    /// <summary>Cuts every established connection (a network cut); the switch, its jobs and its listener stay.</summary>
    public void DropConnections()
    {
        foreach (var peer in _clients.Keys)
        {
            peer.Client.Dispose();
        }

        _clients.Clear();
    }

    private async Task AcceptLoopAsync(TcpListener listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (RefuseWhileReloading && ReloadsRunning > 0)
            {
                Interlocked.Increment(ref _refused);
                client.Dispose();
                continue;
            }

            var peer = new Peer(client);
            _clients[peer] = true;
            _ = ServeAsync(peer, stop);
        }
    }

    private async Task ServeAsync(Peer peer, CancellationToken stop)
    {
        try
        {
            using (peer)
            {
                var reader = new StreamReader(peer.Client.GetStream(), Encoding.UTF8);
                await peer.WriteAsync("Content-Type: auth/request\n\n", stop);
                var authenticated = false;
                while (!stop.IsCancellationRequested)
                {
                    var request = await ReadRequestAsync(reader, stop);
                    if (request is null)
                    {
                        return;
                    }

                    var (line, headers) = request.Value;
                    if (line.StartsWith("auth ", StringComparison.Ordinal))
                    {
                        if (line["auth ".Length..] == Password)
                        {
                            authenticated = true;
                            Interlocked.Increment(ref _authSuccesses);
                            await peer.WriteAsync("Content-Type: command/reply\nReply-Text: +OK accepted\n\n", stop);
                            continue;
                        }

                        // What FreeSWITCH does: refuse, notify, hang up.
                        Interlocked.Increment(ref _authFailures);
                        await peer.WriteAsync("Content-Type: command/reply\nReply-Text: -ERR invalid\n\n", stop);
                        await peer.WriteAsync("Content-Type: text/disconnect-notice\nContent-Length: 67\n\nDisconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n", stop);
                        return;
                    }

                    if (!authenticated)
                    {
                        await peer.WriteAsync("Content-Type: command/reply\nReply-Text: -ERR command not found\n\n", stop);
                        continue;
                    }

                    if (line == "event plain BACKGROUND_JOB")
                    {
                        peer.Subscribed = true;
                        await peer.WriteAsync("Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n", stop);
                    }
                    else if (line.StartsWith("api ", StringComparison.Ordinal))
                    {
                        var body = await RunAsync(line["api ".Length..], stop);
                        await peer.WriteAsync($"Content-Type: api/response\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\n\n{body}", stop);
                    }
                    else if (line.StartsWith("bgapi ", StringComparison.Ordinal))
                    {
                        var job = headers.GetValueOrDefault("Job-UUID") ?? Guid.NewGuid().ToString();
                        await peer.WriteAsync($"Content-Type: command/reply\nReply-Text: +OK Job-UUID: {job}\nJob-UUID: {job}\n\n", stop);
                        _ = BackgroundAsync(line["bgapi ".Length..], job, stop);
                    }
                    else
                    {
                        await peer.WriteAsync("Content-Type: command/reply\nReply-Text: -ERR command not found\n\n", stop);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            _clients.TryRemove(peer, out _);
        }
    }

    private async Task<string> RunAsync(string command, CancellationToken stop)
    {
        if (command.StartsWith("global_getvar ", StringComparison.Ordinal))
        {
            var name = command["global_getvar ".Length..];
            return name == "core_uuid" ? CoreUuid : _variables.GetValueOrDefault(name, string.Empty);
        }

        if (command.StartsWith("global_setvar ", StringComparison.Ordinal))
        {
            var assignment = command["global_setvar ".Length..].Split('=', 2);
            if (assignment.Length < 2 || assignment[1].Length == 0)
            {
                _variables.TryRemove(assignment[0], out _);
            }
            else
            {
                _variables[assignment[0]] = assignment[1];
            }

            return "+OK";
        }

        _commands.Enqueue((command, Stopwatch.GetTimestamp()));
        if (command != "reloadacl")
        {
            return "+OK\n";
        }

        lock (_reloadGate)
        {
            if (++_reloadsRunning > 1)
            {
                _reloadsStartedWhileRunning++;
            }

            _maxReloadsRunning = Math.Max(_maxReloadsRunning, _reloadsRunning);
        }

        try
        {
            if (ReloadDelay > TimeSpan.Zero)
            {
                using var finish = CancellationTokenSource.CreateLinkedTokenSource(stop, Volatile.Read(ref _finishReloads).Token);
                try
                {
                    await Task.Delay(ReloadDelay, finish.Token);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    // FinishRunningReloads: done now, not after ReloadDelay.
                }
            }

            Interlocked.Increment(ref _reloadsCompleted);
            return "+OK acl reloaded\n";
        }
        finally
        {
            lock (_reloadGate)
            {
                _reloadsRunning--;
            }
        }
    }

    private async Task BackgroundAsync(string command, string job, CancellationToken stop)
    {
        string body;
        try
        {
            body = await RunAsync(command, stop);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        // An event-plain message: the event's headers URL-encoded, then its own Content-Length and body.
        var space = command.IndexOf(' ', StringComparison.Ordinal);
        var name = space < 0 ? command : command[..space];
        var eventText = new StringBuilder()
            .Append("Event-Name: BACKGROUND_JOB\n")
            .Append("Core-UUID: ").Append(CoreUuid).Append('\n')
            .Append("Job-UUID: ").Append(job).Append('\n')
            .Append("Job-Command: ").Append(Uri.EscapeDataString(name)).Append('\n')
            .Append("Content-Length: ").Append(Encoding.UTF8.GetByteCount(body)).Append("\n\n")
            .Append(body)
            .ToString();
        var message = $"Content-Length: {Encoding.UTF8.GetByteCount(eventText)}\nContent-Type: text/event-plain\n\n{eventText}";
        foreach (var peer in _clients.Keys.Where(static p => p.Subscribed))
        {
            try
            {
                await peer.WriteAsync(message, stop);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
            }
        }
    }

    /// <summary>A request is its first line plus header lines, up to a blank line.</summary>
    private static async Task<(string Line, Dictionary<string, string> Headers)?> ReadRequestAsync(StreamReader reader, CancellationToken stop)
    {
        string? first = null;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (true)
        {
            var line = await reader.ReadLineAsync(stop);
            if (line is null)
            {
                return null;
            }

            if (line.Length == 0)
            {
                if (first is not null)
                {
                    return (first, headers);
                }

                continue;
            }

            if (first is null)
            {
                first = line;
            }
            else if (line.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon)
            {
                headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        _stop?.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>One connection; replies and events are written from different tasks, one message at a time.</summary>
    private sealed class Peer(TcpClient client) : IDisposable
    {
        private readonly SemaphoreSlim _write = new(1, 1);

        public TcpClient Client { get; } = client;

        public volatile bool Subscribed;

        public async Task WriteAsync(string text, CancellationToken stop)
        {
            await _write.WaitAsync(stop);
            try
            {
                await Client.GetStream().WriteAsync(Encoding.UTF8.GetBytes(text), stop);
            }
            finally
            {
                _write.Release();
            }
        }

        public void Dispose()
        {
            Client.Dispose();
            _write.Dispose();
        }
    }
}
