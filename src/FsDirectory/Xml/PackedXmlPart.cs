using System.Buffers;
using System.Runtime.InteropServices;

namespace FsDirectory.Xml;

/// <summary>
/// A document part kept compact and written out each time the document is read. At a million rules,
/// acl.conf's bucket fragments kept as node lines are about 30 MB that stay live between the rare
/// fetches; kept as addresses they are a few. A part is handed around as a
/// <see cref="ReadOnlyMemory{T}"/> (<see cref="Part"/>), so <see cref="XmlParts"/> holds it beside
/// written parts; its readers write every part through <see cref="Write"/>, which writes a packed
/// one out piece by piece, never whole (a dense bucket's part is megabytes written out).
/// </summary>
public abstract class PackedXmlPart : MemoryManager<byte>
{
    protected PackedXmlPart(int length) => Length = length;

    /// <summary>The written-out length in bytes.</summary>
    public int Length { get; }

    public ReadOnlyMemory<byte> Part => CreateMemory(Length);

    /// <summary>Writes the part out: exactly <see cref="Length"/> bytes.</summary>
    public abstract void WriteTo(IBufferWriter<byte> writer);

    /// <summary>Any part: written out if it is packed, copied if it is not.</summary>
    public static void Write(ReadOnlyMemory<byte> part, IBufferWriter<byte> writer)
    {
        // A slice of a packed part is read through its span, like any other memory.
        if (MemoryMarshal.TryGetMemoryManager(part, out PackedXmlPart? packed, out var start, out var length) && start == 0 && length == packed.Length)
        {
            packed.WriteTo(writer);
        }
        else
        {
            writer.Write(part.Span);
        }
    }

    /// <summary>Reading the part's span directly works, but writes a new copy each time: readers of many parts use <see cref="Write"/>.</summary>
    public override Span<byte> GetSpan()
    {
        var bytes = new ArrayBufferWriter<byte>(Math.Max(1, Length));
        WriteTo(bytes);
        return MemoryMarshal.AsMemory(bytes.WrittenMemory).Span;
    }

    public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException("a packed part is written out, not pinned");

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
