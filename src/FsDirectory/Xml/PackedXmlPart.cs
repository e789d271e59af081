using System.Buffers;
using System.Runtime.InteropServices;

namespace FsDirectory.Xml;

/// <summary>
/// A document part kept compact and written out each time the document is read. At a million rules,
/// acl.conf's bucket fragments kept as node lines are about 30 MB that stay live between the rare
/// fetches; kept as addresses they are a few. A part is handed around as a
/// <see cref="ReadOnlyMemory{T}"/> (<see cref="Part"/>), so <see cref="XmlParts"/> holds it beside
/// written parts; its readers write it out through <see cref="WriteTo(ReadOnlyMemory{byte}, IBufferWriter{byte})"/>.
/// </summary>
public abstract class PackedXmlPart : MemoryManager<byte>
{
    protected PackedXmlPart(int length) => Length = length;

    /// <summary>The written-out length in bytes.</summary>
    public int Length { get; }

    public ReadOnlyMemory<byte> Part => CreateMemory(Length);

    /// <summary>Writes the part out: exactly <see cref="Length"/> bytes at the start of <paramref name="destination"/>.</summary>
    public abstract void WriteTo(Span<byte> destination);

    public static bool IsPacked(ReadOnlyMemory<byte> part) => Packed(part) is not null;

    /// <summary>Any part, written out if it is packed, copied if it is not.</summary>
    public static void WriteTo(ReadOnlyMemory<byte> part, IBufferWriter<byte> writer)
    {
        if (Packed(part) is not { } packed)
        {
            writer.Write(part.Span);
            return;
        }

        var length = packed.Length;
        var span = writer.GetSpan(length);
        if (span.Length >= length)
        {
            packed.WriteTo(span);
            writer.Advance(length);
            return;
        }

        var rented = ArrayPool<byte>.Shared.Rent(length);
        packed.WriteTo(rented);
        writer.Write(rented.AsSpan(0, length));
        ArrayPool<byte>.Shared.Return(rented);
    }

    /// <summary>Any part, written out if it is packed, copied if it is not.</summary>
    public static void CopyTo(ReadOnlyMemory<byte> part, Span<byte> destination)
    {
        if (Packed(part) is { } packed)
        {
            packed.WriteTo(destination);
        }
        else
        {
            part.Span.CopyTo(destination);
        }
    }

    // A slice of a packed part is read as its span, like any other memory.
    private static PackedXmlPart? Packed(ReadOnlyMemory<byte> part) =>
        MemoryMarshal.TryGetMemoryManager(part, out PackedXmlPart? packed, out var start, out var length) && start == 0 && length == packed.Length
            ? packed
            : null;

    /// <summary>Reading the part's span directly works, but writes a new copy each time: readers of many parts use <see cref="WriteTo(ReadOnlyMemory{byte}, IBufferWriter{byte})"/>.</summary>
    public override Span<byte> GetSpan()
    {
        var bytes = new byte[Length];
        WriteTo(bytes);
        return bytes;
    }

    public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException("a packed part is written out, not pinned");

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
