using System.Text;

namespace FsDirectory.Collections;

/// <summary>
/// Pairs of texts kept as UTF-8 inside shared byte blocks, each text preceded by its byte length
/// (7 bits a byte). At a million rules, a tech prefix and a name held as strings cost 40 and 48
/// bytes and two objects; packed, 10 and 13 bytes and no object, so the collector also has a million
/// objects fewer to mark. A block lives as long as anything points into it, so nothing is freed by hand.
/// </summary>
public static class PackedText
{
    /// <summary>Blocks never grow past this, so an offset into one fits in 16 bits.</summary>
    public const int MaxBlockLength = 1 << 16;

    /// <summary>One pair alone in a block of its exact size.</summary>
    public static byte[] Alone(string first, string second)
    {
        var block = new byte[Size(first) + Size(second)];
        Write(block, first, second);
        return block;
    }

    /// <summary>The first (0) or second (1) text of the pair at <paramref name="offset"/>, as UTF-8.</summary>
    public static ReadOnlySpan<byte> Utf8(byte[] block, int offset, int text)
    {
        var span = Text(block, ref offset);
        return text == 0 ? span : Text(block, ref offset);
    }

    public static string Read(byte[] block, int offset, int text) => Encoding.UTF8.GetString(Utf8(block, offset, text));

    /// <summary>The whole pair as packed: two pairs are equal exactly when these bytes are.</summary>
    public static ReadOnlySpan<byte> Entry(byte[] block, int offset)
    {
        var end = offset;
        Text(block, ref end);
        Text(block, ref end);
        return block.AsSpan(offset, end - offset);
    }

    private static int Size(string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        var size = 1;
        for (var rest = (uint)length; rest >= 0x80; rest >>= 7)
        {
            size++;
        }

        return size + length;
    }

    private static ReadOnlySpan<byte> Text(byte[] block, scoped ref int offset)
    {
        var length = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = block[offset++];
            length |= (b & 0x7F) << shift;
            if (b < 0x80)
            {
                var text = block.AsSpan(offset, length);
                offset += length;
                return text;
            }
        }
    }

    private static void Write(Span<byte> destination, string first, string second)
    {
        var at = Write(destination, first);
        Write(destination[at..], second);
    }

    private static int Write(Span<byte> destination, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        var at = 0;
        for (var rest = (uint)length; ; rest >>= 7)
        {
            if (rest < 0x80)
            {
                destination[at++] = (byte)rest;
                break;
            }

            destination[at++] = (byte)(rest | 0x80);
        }

        return at + Encoding.UTF8.GetBytes(value, destination[at..]);
    }

    /// <summary>
    /// Packs pairs into blocks that start small and double up to <see cref="MaxBlockLength"/>: a
    /// build of a million rules fills a few hundred blocks, a one-row edit one small one. Equal
    /// pairs are packed once, found by their bytes: a build keeps no string per pair to find them by.
    /// Not thread-safe: one per build or patch.
    /// </summary>
    public sealed class Writer
    {
        private const int FirstBlockLength = 256;

        private readonly HashSet<(byte[] Block, int Offset)> _written = new(SameEntry.Instance);
        private byte[] _block = [];
        private int _used;

        public (byte[] Block, int Offset) Add(string first, string second) => Add(Alone(first, second));

        /// <summary>Packs a pair given as its bytes (an <see cref="Entry"/> from another block).</summary>
        public (byte[] Block, int Offset) Add(ReadOnlySpan<byte> entry)
        {
            if (entry.Length > MaxBlockLength)
            {
                return (entry.ToArray(), 0);
            }

            if (_used + entry.Length > _block.Length)
            {
                _block = new byte[Math.Max(entry.Length, Math.Min(MaxBlockLength, Math.Max(FirstBlockLength, _block.Length * 2)))];
                _used = 0;
            }

            // Written where it would go, then looked up: a pair already packed leaves the space to the next one.
            entry.CopyTo(_block.AsSpan(_used));
            if (_written.TryGetValue((_block, _used), out var packed))
            {
                return packed;
            }

            packed = (_block, _used);
            _written.Add(packed);
            _used += entry.Length;
            return packed;
        }

        private sealed class SameEntry : IEqualityComparer<(byte[] Block, int Offset)>
        {
            public static readonly SameEntry Instance = new();

            public bool Equals((byte[] Block, int Offset) x, (byte[] Block, int Offset) y) =>
                Entry(x.Block, x.Offset).SequenceEqual(Entry(y.Block, y.Offset));

            public int GetHashCode((byte[] Block, int Offset) obj)
            {
                var hash = default(HashCode);
                hash.AddBytes(Entry(obj.Block, obj.Offset));
                return hash.ToHashCode();
            }
        }
    }
}
