using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace FsDirectory.EventSocket;

/// <summary>The node refused the password. Retrying with the same password cannot help.</summary>
public sealed class EslAuthenticationException(string message) : Exception(message);

/// <summary>The peer sent something that is not the Event Socket reply we waited for.</summary>
public sealed class EslProtocolException(string message) : IOException(message);

/// <summary>One Event Socket message: headers, and the body when Content-Length says there is one.</summary>
public sealed record EslMessage(IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string ContentType => Headers.GetValueOrDefault("Content-Type", string.Empty);

    /// <summary>
    /// A <c>text/event-plain</c> message's event: its headers (URL-decoded, as mod_event_socket
    /// encodes them) and its own body, e.g. a BACKGROUND_JOB's command output. Null for anything else.
    /// </summary>
    public EslMessage? PlainEvent()
    {
        if (ContentType != "text/event-plain")
        {
            return null;
        }

        var split = Body.IndexOf("\n\n", StringComparison.Ordinal);
        var head = split < 0 ? Body : Body[..split];
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in head.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers[line[..colon].Trim()] = Uri.UnescapeDataString(line[(colon + 1)..].Trim());
            }
        }

        var body = split < 0 ? string.Empty : Body[(split + 2)..];
        if (headers.TryGetValue("Content-Length", out var text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var length)
            && length < body.Length)
        {
            body = body[..length];
        }

        return new EslMessage(headers, body);
    }
}

/// <summary>
/// An inbound Event Socket connection to one FreeSWITCH (mod_event_socket): authenticate, then one
/// command at a time. After authentication a reader owns the socket: replies (command/reply,
/// api/response) go to the command that waits for them, events (text/event-plain, e.g. the
/// BACKGROUND_JOB that carries a <c>bgapi</c> result) go to the owner's handler, whenever they come.
/// </summary>
public sealed class EslConnection : IAsyncDisposable
{
    private const int MaxHeaderLine = 8 * 1024;
    private const int MaxBody = 16 * 1024 * 1024;
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private readonly Channel<EslMessage> _replies = Channel.CreateUnbounded<EslMessage>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly SemaphoreSlim _oneCommand = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private Action<EslMessage>? _onEvent;
    private Action? _onClosed;
    private int _start;
    private int _end;
    private int _closed;

    private EslConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public bool IsOpen => Volatile.Read(ref _closed) == 0;

    /// <summary>
    /// Connects and authenticates; throws <see cref="EslAuthenticationException"/> when the password is refused.
    /// <paramref name="onEvent"/> and <paramref name="onClosed"/> run on the reader, so they must not block.
    /// </summary>
    public static async Task<EslConnection> OpenAsync(
        string host, int port, string password, Action<EslMessage> onEvent, Action onClosed, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        EslConnection? connection = null;
        try
        {
            await client.ConnectAsync(host, port, cancellationToken);
            connection = new EslConnection(client);
            var greeting = await connection.ReadMessageAsync(cancellationToken);
            if (greeting.ContentType != "auth/request")
            {
                // FreeSWITCH answers text/rude-rejection when its apply-inbound-acl refuses this address.
                throw new EslProtocolException($"expected auth/request, got '{greeting.ContentType}'");
            }

            await connection.WriteAsync("auth " + password + "\n\n", cancellationToken);
            var reply = await connection.ReadMessageAsync(cancellationToken);
            var text = reply.Headers.GetValueOrDefault("Reply-Text", string.Empty);
            if (reply.ContentType != "command/reply" || !text.StartsWith("+OK", StringComparison.Ordinal))
            {
                // Reply-Text is FreeSWITCH's own message ("-ERR invalid"); it never echoes the password.
                throw new EslAuthenticationException($"authentication refused ({(text.Length == 0 ? reply.ContentType : text)})");
            }

            connection._onEvent = onEvent;
            connection._onClosed = onClosed;
            _ = connection.ReadLoopAsync();
            return connection;
        }
        catch
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
            else
            {
                client.Dispose();
            }

            throw;
        }
    }

    /// <summary>Runs <c>api COMMAND</c> and returns the api/response body (FreeSWITCH reports errors in it as <c>-ERR …</c>).</summary>
    public async Task<string> ApiAsync(string command, CancellationToken cancellationToken)
    {
        var reply = await ExchangeAsync("api " + OneLine(command) + "\n\n", cancellationToken);
        return reply.ContentType == "api/response"
            ? reply.Body
            : throw new EslProtocolException($"expected api/response, got '{reply.ContentType}'");
    }

    /// <summary>
    /// Starts <c>bgapi COMMAND</c> under the caller's Job-UUID and returns the command/reply's
    /// Reply-Text at once (<c>+OK Job-UUID: …</c>); the command's output comes later as a
    /// BACKGROUND_JOB event carrying the same Job-UUID.
    /// </summary>
    public async Task<string> BackgroundApiAsync(string command, string jobUuid, CancellationToken cancellationToken)
    {
        var reply = await ExchangeAsync("bgapi " + OneLine(command) + "\nJob-UUID: " + OneLine(jobUuid) + "\n\n", cancellationToken);
        return reply.ContentType == "command/reply"
            ? reply.Headers.GetValueOrDefault("Reply-Text", string.Empty)
            : throw new EslProtocolException($"expected command/reply, got '{reply.ContentType}'");
    }

    /// <summary>Subscribes to BACKGROUND_JOB events (plain format), so bgapi results reach the event handler.</summary>
    public async Task SubscribeBackgroundJobsAsync(CancellationToken cancellationToken)
    {
        var reply = await ExchangeAsync("event plain BACKGROUND_JOB\n\n", cancellationToken);
        var text = reply.Headers.GetValueOrDefault("Reply-Text", string.Empty);
        if (reply.ContentType != "command/reply" || !text.StartsWith("+OK", StringComparison.Ordinal))
        {
            throw new EslProtocolException($"event subscription refused ({text})");
        }
    }

    private static string OneLine(string text) =>
        text.Contains('\n', StringComparison.Ordinal) || text.Contains('\r', StringComparison.Ordinal)
            ? throw new ArgumentException("an Event Socket command is one line", nameof(text))
            : text;

    private async Task<EslMessage> ExchangeAsync(string request, CancellationToken cancellationToken)
    {
        await _oneCommand.WaitAsync(cancellationToken);
        try
        {
            if (!IsOpen)
            {
                throw new EslProtocolException("the node closed the connection");
            }

            await WriteAsync(request, cancellationToken);
            using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
            try
            {
                return await _replies.Reader.ReadAsync(both.Token);
            }
            catch (ChannelClosedException)
            {
                throw new EslProtocolException("the node closed the connection");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new EslProtocolException("the node closed the connection");
            }
        }
        catch
        {
            // A reply that arrives after a timeout would be read as the answer to the next command.
            Close();
            throw;
        }
        finally
        {
            _oneCommand.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (IsOpen)
            {
                var message = await ReadMessageAsync(_closing.Token);
                if (message.ContentType.StartsWith("text/event", StringComparison.Ordinal))
                {
                    _onEvent?.Invoke(message);
                }
                else if (message.ContentType is "command/reply" or "api/response")
                {
                    _replies.Writer.TryWrite(message);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            Close();
        }
    }

    private async Task WriteAsync(string text, CancellationToken cancellationToken)
    {
        try
        {
            await _stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        }
        catch
        {
            Close();
            throw;
        }
    }

    private async Task<EslMessage> ReadMessageAsync(CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken);
            if (line.Length == 0)
            {
                if (headers.Count == 0)
                {
                    continue;
                }

                break;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }

        var body = string.Empty;
        if (headers.TryGetValue("Content-Length", out var lengthText))
        {
            if (!int.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length > MaxBody)
            {
                throw new EslProtocolException("bad Content-Length");
            }

            body = Encoding.UTF8.GetString(await ReadBytesAsync(length, cancellationToken));
        }

        var message = new EslMessage(headers, body);
        return message.ContentType == "text/disconnect-notice"
            ? throw new EslProtocolException("the node closed the connection (disconnect notice)")
            : message;
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        using var line = new MemoryStream();
        while (true)
        {
            if (_start == _end)
            {
                await FillAsync(cancellationToken);
            }

            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            var stop = newline < 0 ? _end : newline;
            line.Write(_buffer, _start, stop - _start);
            _start = newline < 0 ? _end : newline + 1;
            if (line.Length > MaxHeaderLine)
            {
                throw new EslProtocolException("header line too long");
            }

            if (newline >= 0)
            {
                return Encoding.UTF8.GetString(line.GetBuffer(), 0, (int)line.Length).TrimEnd('\r');
            }
        }
    }

    private async Task<byte[]> ReadBytesAsync(int count, CancellationToken cancellationToken)
    {
        var result = new byte[count];
        var copied = 0;
        while (copied < count)
        {
            if (_start == _end)
            {
                await FillAsync(cancellationToken);
            }

            var take = Math.Min(count - copied, _end - _start);
            Array.Copy(_buffer, _start, result, copied, take);
            _start += take;
            copied += take;
        }

        return result;
    }

    private async Task FillAsync(CancellationToken cancellationToken)
    {
        var read = await _stream.ReadAsync(_buffer, cancellationToken);
        if (read == 0)
        {
            throw new EslProtocolException("the node closed the connection");
        }

        _start = 0;
        _end = read;
    }

    private void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _replies.Writer.TryComplete();
        try
        {
            _closing.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        _client.Dispose();
        _onClosed?.Invoke();
    }

    public ValueTask DisposeAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }
}
