using System.Buffers;
namespace FsDirectory.Xml;

/// <summary>A complete FreeSWITCH XML reply, sent as <c>text/xml</c> with a known length, in one piece or in parts.</summary>
public sealed class XmlAnswer : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public static readonly XmlAnswer NotFound = new(BuildNotFound(), "not found");

    /// <summary>No document, on purpose: 503, which makes mod_xml_curl try its next binding. A singleton, as <see cref="NotFound"/>, so no answer carries a status field.</summary>
    public static readonly XmlAnswer Unavailable = new(ReadOnlyMemory<byte>.Empty, "refused");

    private readonly ReadOnlyMemory<byte> _body;
    private readonly XmlParts? _parts;

    public XmlAnswer(ReadOnlyMemory<byte> body, string outcome)
    {
        _body = body;
        Outcome = outcome;
    }


    /// <summary>A document served as the parts it is kept in (acl.conf at a million rules is tens of megabytes, shared between snapshots part by part).</summary>
    public XmlAnswer(XmlParts parts, string outcome)
    {
        if (parts.Count == 1)
        {
            _body = parts.First();
        }
        else
        {
            _parts = parts;
        }

        Outcome = outcome;
    }

    /// <summary>The whole document in one buffer (a copy when it is kept in parts).</summary>
    public ReadOnlyMemory<byte> Body => _parts is null ? _body : Join();

    public long Length => _parts?.Length ?? _body.Length;

    /// <summary>SHA-256 of the document, without joining its parts.</summary>
    public byte[] Sha256()
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var hashing = new HashingWriter(hash);
        foreach (var part in _parts ?? XmlParts.Of(_body))
        {
            PackedXmlPart.Write(part, hashing);
        }

        hashing.Flush();
        return hash.GetHashAndReset();
    }

    /// <summary>For metrics and logs: answered, not found, rejected.</summary>
    public string Outcome { get; }

    public bool IsNotFound => ReferenceEquals(this, NotFound);

    public int? StatusCode => ReferenceEquals(this, Unavailable) ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;

    public string ContentType => "text/xml";

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCode ?? StatusCodes.Status200OK;
        if (StatusCode != StatusCodes.Status200OK)
        {
            response.ContentLength = 0;
            return Task.CompletedTask;
        }

        response.ContentType = ContentType;
        response.ContentLength = Length;
        return _parts is null ? response.Body.WriteAsync(_body, httpContext.RequestAborted).AsTask() : WritePartsAsync(response, httpContext.RequestAborted);
    }

    public override string ToString() => System.Text.Encoding.UTF8.GetString(Body.Span);

    private async Task WritePartsAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        // Copied into the response pipe and flushed every 64 KB, not once per part (there can be a
        // hundred thousand of them).
        var writer = response.BodyWriter;
        var unflushed = 0;
        foreach (var part in _parts!)
        {
            PackedXmlPart.Write(part, writer);
            unflushed += part.Length;
            if (unflushed >= 64 * 1024)
            {
                unflushed = 0;
                if ((await writer.FlushAsync(cancellationToken)).IsCompleted)
                {
                    return;
                }
            }
        }

        await writer.FlushAsync(cancellationToken);
    }

    private ReadOnlyMemory<byte> Join()
    {
        var joined = new ArrayBufferWriter<byte>(Math.Max(1, (int)Length));
        foreach (var part in _parts!)
        {
            PackedXmlPart.Write(part, joined);
        }

        return joined.WrittenMemory;
    }

    private static ReadOnlyMemory<byte> BuildNotFound()
    {
        var xml = new FsXmlWriter(256).StartDocument("result");
        xml.Start("result").Attr("status", "not found").Close();
        return xml.EndDocument().ToArray();
    }

    /// <summary>Hashes what is written through it, a buffer at a time: a document is hashed without being joined.</summary>
    private sealed class HashingWriter(System.Security.Cryptography.IncrementalHash hash) : IBufferWriter<byte>
    {
        private readonly byte[] _buffer = new byte[16 * 1024];
        private int _used;

        public void Advance(int count) => _used += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            MakeRoom(sizeHint);
            return _buffer.AsMemory(_used);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            MakeRoom(sizeHint);
            return _buffer.AsSpan(_used);
        }

        public void Flush()
        {
            hash.AppendData(_buffer, 0, _used);
            _used = 0;
        }

        // A hint larger than the buffer gets the whole buffer: writers of large spans take them a piece at a time.
        private void MakeRoom(int sizeHint)
        {
            if (_buffer.Length - _used < Math.Max(1, sizeHint))
            {
                Flush();
            }
        }
    }
}
