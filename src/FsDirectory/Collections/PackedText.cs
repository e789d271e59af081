using System.Runtime.InteropServices;
using System.Text;

namespace FsDirectory.Collections;

/// <summary>
/// Text kept as UTF-8 inside shared byte blocks, each entry preceded by its byte length (7 bits a
/// byte). At a million rules, names held as strings cost 48 bytes and one object each for a
/// 12-character name; packed, they cost 13 bytes and no object, so the collector also has a million
/// fewer objects to mark. A block lives as long as anything points into it, so nothing is freed by hand.
/// </summary>
public static class PackedText
{
    /// <summary>Blocks never grow past this, so an offset into one fits in 16 bits.</summary>
    public const int MaxBlockLength = 1 << 16;

    /// <summary>One entry alone in a block of its exact size.</summary>
    public static byte[] Alone(string value)
    {
        var block = new byte[Size(value)];
        Write(block, value);
        return block;
    }

    /// <summary>The bytes an entry takes: its length prefix and its UTF-8.</summary>
    public static int Size(string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        return PrefixSize(length) + length;
    }

    /// <summary>The entry's UTF-8, without its length prefix.</summary>
    public static ReadOnlySpan<byte> Utf8(byte[] block, int offset)
    {
        var length = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = block[offset++];
            length |= (b & 0x7F) << shift;
            if (b < 0x80)
            {
                return block.AsSpan(offset, length);
            }
        }
    }

    public static string Read(byte[] block, int offset) => Encoding.UTF8.GetString(Utf8(block, offset));

    /// <summary>Writes an entry at the start of <paramref name="destination"/>, which is at least <see cref="Size"/> long.</summary>
    public static void Write(Span<byte> destination, string value)
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

        Encoding.UTF8.GetBytes(value, destination[at..]);
    }

    private static int PrefixSize(int length)
    {
        var size = 1;
        for (var rest = (uint)length; rest >= 0x80; rest >>= 7)
        {
            size++;
        }

        return size;
    }

    /// <summary>
    /// Packs entries into blocks that start small and double up to <see cref="MaxBlockLength"/>: a
    /// build of a million names fills a few hundred blocks, a one-row edit one small one. Equal
    /// entries are packed once. Not thread-safe: one per build or patch.
    /// </summary>
    public sealed class Writer
    {
        private const int FirstBlockLength = 256;

        private readonly Dictionary<string, (byte[] Block, int Offset)> _written = new(StringComparer.Ordinal);
        private byte[] _block = [];
        private int _used;

        public (byte[] Block, int Offset) Add(string value)
        {
            ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_written, value, out var exists);
            if (exists)
            {
                return entry;
            }

            var size = Size(value);
            if (size > MaxBlockLength)
            {
                return entry = (Alone(value), 0);
            }

            if (_used + size > _block.Length)
            {
                _block = new byte[Math.Max(size, Math.Min(MaxBlockLength, Math.Max(FirstBlockLength, _block.Length * 2)))];
                _used = 0;
            }

            Write(_block.AsSpan(_used), value);
            entry = (_block, _used);
            _used += size;
            return entry;
        }
    }
}
