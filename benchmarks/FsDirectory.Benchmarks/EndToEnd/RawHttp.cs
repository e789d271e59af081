using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FsDirectory.Benchmarks.EndToEnd;

/// <summary>
/// A minimal HTTP/1.1 client over a socket, as cheap as libcurl in mod_xml_curl: the load generator
/// shares two cores with the service, so every microsecond it spends is taken from the server.
/// </summary>
public sealed class RawHttp : IDisposable
{
    private readonly IPEndPoint _endpoint;
    private readonly bool _keepAlive;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private Socket? _socket;

    public RawHttp(IPEndPoint endpoint, bool keepAlive)
    {
        _endpoint = endpoint;
        _keepAlive = keepAlive;
    }

    public static byte[] PostRequest(string path, string body, bool keepAlive) =>
        Encoding.ASCII.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: freeswitch-xml/1.0\r\nAccept: */*\r\n"
            + $"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n"
            + (keepAlive ? "" : "Connection: close\r\n") + "\r\n" + body);

    /// <summary>Sends one request and reads the whole response; returns the status and the body length.</summary>
    public async ValueTask<(int Status, int BodyLength)> SendAsync(byte[] request, CancellationToken ct)
    {
        var socket = _socket;
        if (socket is null)
        {
            socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            // Reset instead of TIME_WAIT: tens of thousands of short connections would exhaust ephemeral ports.
            socket.LingerState = new LingerOption(true, 0);
            await socket.ConnectAsync(_endpoint, ct);
            _socket = socket;
        }

        try
        {
            await socket.SendAsync(request, SocketFlags.None, ct);
            var result = await ReadResponseAsync(socket, ct);
            if (!_keepAlive)
            {
                Close();
            }

            return result;
        }
        catch
        {
            Close();
            throw;
        }
    }

    private async ValueTask<(int Status, int BodyLength)> ReadResponseAsync(Socket socket, CancellationToken ct)
    {
        var filled = 0;
        int headerEnd;
        while (true)
        {
            var read = await socket.ReceiveAsync(_buffer.AsMemory(filled), SocketFlags.None, ct);
            if (read == 0)
            {
                throw new IOException("connection closed before the response headers");
            }

            filled += read;
            headerEnd = _buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
            if (headerEnd >= 0)
            {
                break;
            }

            if (filled == _buffer.Length)
            {
                throw new IOException("response headers too large");
            }
        }

        var headers = _buffer.AsSpan(0, headerEnd);
        if (!Utf8Parser.TryParse(headers[9..12], out int status, out _))
        {
            throw new IOException("bad status line");
        }

        var contentLength = 0;
        var marker = headers.IndexOf("\r\nContent-Length: "u8);
        if (marker >= 0 && !Utf8Parser.TryParse(headers[(marker + 18)..], out contentLength, out _))
        {
            throw new IOException("bad Content-Length");
        }

        var received = filled - (headerEnd + 4);
        while (received < contentLength)
        {
            var read = await socket.ReceiveAsync(_buffer, SocketFlags.None, ct);
            if (read == 0)
            {
                throw new IOException("connection closed in the middle of the body");
            }

            received += read;
        }

        return (status, contentLength);
    }

    private void Close()
    {
        _socket?.Dispose();
        _socket = null;
    }

    public void Dispose() => Close();
}
