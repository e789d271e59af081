using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FsDirectory.Tests.EventSocket;

/// <summary>
/// A small FreeSWITCH Event Socket (mod_event_socket, inbound) on loopback: greets with
/// auth/request, checks the password, answers <c>api</c> with api/response and records every command.
/// It can be stopped and started again on the same port, like a restarted switch.
/// </summary>
public sealed class FakeFreeSwitch : IAsyncDisposable
{
    private readonly ConcurrentQueue<(string Command, long Timestamp)> _commands = new();
    private readonly ConcurrentDictionary<TcpClient, bool> _clients = new();
    private TcpListener? _listener;
    private CancellationTokenSource? _stop;
    private int _authFailures;
    private int _authSuccesses;

    private FakeFreeSwitch(string password) => Password = password;

    public string Password { get; }
    public int Port { get; private set; }
    public string Address => $"127.0.0.1:{Port}";
    public int AuthFailures => Volatile.Read(ref _authFailures);
    public int AuthSuccesses => Volatile.Read(ref _authSuccesses);
    public IReadOnlyList<string> Commands => [.. _commands.Select(c => c.Command)];
    public int Count(string command) => _commands.Count(c => c.Command == command);

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

    public void Restart() => Listen(Port);

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

    /// <summary>Closes the listener and every connection, like a switch that died.</summary>
    public void Stop()
    {
        _stop?.Cancel();
        _listener?.Stop();
        foreach (var client in _clients.Keys)
        {
            client.Dispose();
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

            _clients[client] = true;
            _ = ServeAsync(client, stop);
        }
    }

    private async Task ServeAsync(TcpClient client, CancellationToken stop)
    {
        try
        {
            using (client)
            {
                var stream = client.GetStream();
                var reader = new StreamReader(stream, Encoding.UTF8);
                await WriteAsync(stream, "Content-Type: auth/request\n\n", stop);
                var authenticated = false;
                while (!stop.IsCancellationRequested)
                {
                    var request = await ReadRequestAsync(reader, stop);
                    if (request is null)
                    {
                        return;
                    }

                    if (request.StartsWith("auth ", StringComparison.Ordinal))
                    {
                        if (request["auth ".Length..] == Password)
                        {
                            authenticated = true;
                            Interlocked.Increment(ref _authSuccesses);
                            await WriteAsync(stream, "Content-Type: command/reply\nReply-Text: +OK accepted\n\n", stop);
                            continue;
                        }

                        // What FreeSWITCH does: refuse, notify, hang up.
                        Interlocked.Increment(ref _authFailures);
                        await WriteAsync(stream, "Content-Type: command/reply\nReply-Text: -ERR invalid\n\n", stop);
                        await WriteAsync(stream, "Content-Type: text/disconnect-notice\nContent-Length: 67\n\nDisconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n", stop);
                        return;
                    }

                    if (!authenticated)
                    {
                        await WriteAsync(stream, "Content-Type: command/reply\nReply-Text: -ERR command not found\n\n", stop);
                        continue;
                    }

                    if (request.StartsWith("api ", StringComparison.Ordinal))
                    {
                        var command = request["api ".Length..];
                        _commands.Enqueue((command, Stopwatch.GetTimestamp()));
                        var body = command == "reloadacl" ? "+OK acl reloaded\n" : "+OK\n";
                        var bytes = Encoding.UTF8.GetByteCount(body);
                        await WriteAsync(stream, $"Content-Type: api/response\nContent-Length: {bytes}\n\n{body}", stop);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            _clients.TryRemove(client, out _);
        }
    }

    /// <summary>A request is its lines up to a blank line; only the first line matters here.</summary>
    private static async Task<string?> ReadRequestAsync(StreamReader reader, CancellationToken stop)
    {
        string? first = null;
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
                    return first;
                }

                continue;
            }

            first ??= line;
        }
    }

    private static Task WriteAsync(NetworkStream stream, string text, CancellationToken stop) =>
        stream.WriteAsync(Encoding.UTF8.GetBytes(text), stop).AsTask();

    public ValueTask DisposeAsync()
    {
        Stop();
        _stop?.Dispose();
        return ValueTask.CompletedTask;
    }
}
