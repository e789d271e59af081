using System.Collections;

namespace FsDirectory.Xml;

/// <summary>
/// A document kept as the parts it is put together from: acl.conf at a million rules is a part per
/// address bucket and list, each shared between snapshots. The parts are held in chunks of
/// <see cref="ChunkLength"/>, so that no array of them reaches the large-object heap: in one array,
/// a few hundred thousand parts took megabytes there per snapshot, which the GC collects only with
/// gen2 (150 edits at a million rules left 88-125 MB of free, fragmented LOH with one array, 70 MB
/// with chunks; dotnet-counters).
/// </summary>
public sealed class XmlParts : IEnumerable<ReadOnlyMemory<byte>>
{
    /// <summary>4,096 parts of 16 bytes: 64 KB, under the 85,000-byte large-object threshold.</summary>
    public const int ChunkLength = 4096;

    private readonly ReadOnlyMemory<byte>[][] _chunks;

    private XmlParts(ReadOnlyMemory<byte>[][] chunks, int count, long length)
    {
        _chunks = chunks;
        Count = count;
        Length = length;
    }

    public int Count { get; }

    /// <summary>The document's length in bytes.</summary>
    public long Length { get; }

    /// <summary>A document in one piece.</summary>
    public static XmlParts Of(ReadOnlyMemory<byte> whole) => new([[whole]], 1, whole.Length);

    public IEnumerator<ReadOnlyMemory<byte>> GetEnumerator()
    {
        var left = Count;
        foreach (var chunk in _chunks)
        {
            for (var i = 0; i < chunk.Length && left > 0; i++, left--)
            {
                yield return chunk[i];
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public sealed class Builder
    {
        private readonly List<ReadOnlyMemory<byte>[]> _chunks = [];
        private ReadOnlyMemory<byte>[]? _current;
        private int _used;
        private int _count;
        private long _length;

        public void Add(ReadOnlyMemory<byte> part)
        {
            if (_current is null || _used == _current.Length)
            {
                // The first chunk grows from small (most documents are a handful of parts); later ones are full size.
                _current = new ReadOnlyMemory<byte>[_current is null ? 16 : ChunkLength];
                _chunks.Add(_current);
                _used = 0;
            }

            _current[_used++] = part;
            _count++;
            _length += part.Length;
        }

        public XmlParts ToParts() => new([.. _chunks], _count, _length);
    }
}
