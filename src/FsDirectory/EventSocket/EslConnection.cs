using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace FsDirectory.EventSocket;

/// <summary>The node refused the password. Retrying with the same password cannot help.</summary>
public sealed class EslAuthenticationException(string message) : Exception(message);

/// <summary>The peer sent something that is not the Event Socket reply we waited for.</summary>
public sealed class EslProtocolException(string message) : IOException(message);

/// <summary>One Event Socket message: headers, and the body when Content-Length says there is one.</summary>
public sealed record EslMessage(IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string ContentType => Headers.GetValueOrDefault("Content-Type", string.Empty);
}

/// <summary>
/// An inbound Event Socket connection to one FreeSWITCH (mod_event_socket): authenticate, then
/// blocking <c>api</c> commands, one at a time. No events are subscribed, so every message after
/// authentication is the reply to the command just sent (or a disconnect notice).
/// </summary>
public sealed class EslConnection : IAsyncDisposable
{
    private const int MaxHeaderLine = 8 * 1024;
    private const int MaxBody = 16 * 1024 * 1024;
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    private EslConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public bool IsOpen { get; private set; } = true;

    /// <summary>Connects and authenticates; throws <see cref="EslAuthenticationException"/> when the password is refused.</summary>
    public static async Task<EslConnection> OpenAsync(string host, int port, string password, CancellationToken cancellationToken)
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
        if (command.Contains('\n', StringComparison.Ordinal) || command.Contains('\r', StringComparison.Ordinal))
        {
            throw new ArgumentException("an Event Socket command is one line", nameof(command));
        }

        await WriteAsync("api " + command + "\n\n", cancellationToken);
        var reply = await ReadMessageAsync(cancellationToken);
        return reply.ContentType == "api/response"
            ? reply.Body
            : throw new EslProtocolException($"expected api/response, got '{reply.ContentType}'");
    }

    private async Task WriteAsync(string text, CancellationToken cancellationToken)
    {
        try
        {
            await _stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        }
        catch
        {
            IsOpen = false;
            throw;
        }
    }

    public async Task<EslMessage> ReadMessageAsync(CancellationToken cancellationToken)
    {
        try
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
            if (message.ContentType == "text/disconnect-notice")
            {
                throw new EslProtocolException("the node closed the connection (disconnect notice)");
            }

            return message;
        }
        catch
        {
            IsOpen = false;
            throw;
        }
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

    /// <summary>
    /// True when the peer has gone (EOF) or sent something unasked for, which for an idle inbound
    /// connection is FreeSWITCH's disconnect notice. Checked without reading, so it never steals a reply.
    /// </summary>
    public bool PeerHasClosed()
    {
        try
        {
            if (!IsOpen || _client.Client.Poll(0, SelectMode.SelectRead) || _start != _end)
            {
                IsOpen = false;
            }
        }
        catch (SocketException)
        {
            IsOpen = false;
        }
        catch (ObjectDisposedException)
        {
            IsOpen = false;
        }

        return !IsOpen;
    }

    public ValueTask DisposeAsync()
    {
        IsOpen = false;
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
