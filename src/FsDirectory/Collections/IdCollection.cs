using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace FsDirectory.Collections;

/// <summary>
/// An immutable map from row id to value, enumerated in id order, whose versions share storage. The
/// entries sit in sorted chunks of a few hundred: a changed row copies its chunk and the chunk
/// directory (kilobytes), so a snapshot after one edit at a million rows shares everything else with
/// the previous one instead of copying a megabytes-long list. Ids may be sparse (Galera steps
/// auto-increment ids by the cluster size), which a chunked sorted list stores without holes.
/// </summary>
public sealed class IdCollection<T> : IReadOnlyCollection<T>
    where T : class
{
    /// <summary>Entries per chunk when a table is built in id order; a chunk splits when it grows to twice this.</summary>
    internal const int ChunkSize = 512;

    public static readonly IdCollection<T> Empty = new([], 0);

    private readonly Chunk[] _chunks;

    private IdCollection(Chunk[] chunks, int count)
    {
        _chunks = chunks;
        Count = count;
    }

    public int Count { get; }

    public bool TryGetValue(int id, [MaybeNullWhen(false)] out T value)
    {
        value = Find(id);
        return value is not null;
    }

    public T? Find(int id) => Find(_chunks, _chunks.Length, id);

    /// <summary>Every entry with its id, in id order.</summary>
    public IEnumerable<KeyValuePair<int, T>> Entries
    {
        get
        {
            foreach (var chunk in _chunks)
            {
                for (var i = 0; i < chunk.Count; i++)
                {
                    yield return new KeyValuePair<int, T>(chunk.Ids[i], chunk.Values[i]);
                }
            }
        }
    }

    public IEnumerator<T> GetEnumerator()
    {
        foreach (var chunk in _chunks)
        {
            for (var i = 0; i < chunk.Count; i++)
            {
                yield return chunk.Values[i];
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A batch of changes on top of this table; the table itself never changes.</summary>
    public Builder ToBuilder() => new(this);

    private static T? Find(IReadOnlyList<Chunk> chunks, int count, int id)
    {
        var c = FindChunk(chunks, count, id);
        if (c < 0)
        {
            return null;
        }

        var chunk = chunks[c];
        var i = Array.BinarySearch(chunk.Ids, 0, chunk.Count, id);
        return i >= 0 ? chunk.Values[i] : null;
    }

    /// <summary>
    /// Walks the entries in id order alongside another id-ordered sequence: <see cref="Cursor.Take"/>
    /// returns the entry with the next id asked for and hands the ones it passes to <paramref name="passed"/>.
    /// </summary>
    public Cursor Walk(Action<int, T> passed) => new(Entries.GetEnumerator(), passed);

    public sealed class Cursor(IEnumerator<KeyValuePair<int, T>> entries, Action<int, T> passed) : IDisposable
    {
        private bool _has = entries.MoveNext();

        /// <summary>The entry with <paramref name="id"/> (ids asked for must grow), or null.</summary>
        public T? Take(int id)
        {
            while (_has && entries.Current.Key < id)
            {
                passed(entries.Current.Key, entries.Current.Value);
                _has = entries.MoveNext();
            }

            if (!_has || entries.Current.Key != id)
            {
                return null;
            }

            var value = entries.Current.Value;
            _has = entries.MoveNext();
            return value;
        }

        /// <summary>Hands every entry not taken yet to the callback.</summary>
        public void Finish()
        {
            for (; _has; _has = entries.MoveNext())
            {
                passed(entries.Current.Key, entries.Current.Value);
            }
        }

        public void Dispose() => entries.Dispose();
    }

    /// <summary>Index of the last chunk whose first id is at most <paramref name="id"/> (0 when id is below every chunk; -1 when empty).</summary>
    private static int FindChunk(IReadOnlyList<Chunk> chunks, int count, int id)
    {
        if (count == 0)
        {
            return -1;
        }

        int lo = 0, hi = count - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) >>> 1;
            if (chunks[mid].Ids[0] <= id)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return lo;
    }

    /// <summary>
    /// Sorted ids and their values. Shared chunks are never written; a builder copies a chunk the
    /// first time it changes it and then owns (and may write) that copy until it builds its table.
    /// </summary>
    private sealed class Chunk(int[] ids, T[] values, int count)
    {
        public int[] Ids = ids;
        public T[] Values = values;
        public int Count = count;

        public Chunk CopyWithRoom(int room)
        {
            var capacity = Count + room;
            var ids = new int[capacity];
            var values = new T[capacity];
            Array.Copy(Ids, ids, Count);
            Array.Copy(Values, values, Count);
            return new Chunk(ids, values, Count);
        }

        public void Insert(int at, int id, T value)
        {
            if (Count == Ids.Length)
            {
                Array.Resize(ref Ids, Math.Max(4, Count * 2));
                Array.Resize(ref Values, Ids.Length);
            }

            Array.Copy(Ids, at, Ids, at + 1, Count - at);
            Array.Copy(Values, at, Values, at + 1, Count - at);
            Ids[at] = id;
            Values[at] = value;
            Count++;
        }

        public void RemoveAt(int at)
        {
            Count--;
            Array.Copy(Ids, at + 1, Ids, at, Count - at);
            Array.Copy(Values, at + 1, Values, at, Count - at);
            Values[Count] = null!;
        }
    }

    /// <summary>
    /// Collects changes and makes a new table that shares every untouched chunk with the old one.
    /// Appending in id order (a full build, new rows at the end) fills chunks without copying.
    /// </summary>
    public sealed class Builder
    {
        private readonly List<Chunk> _chunks;
        private readonly HashSet<Chunk> _owned = new(ReferenceEqualityComparer.Instance);
        private int _count;

        internal Builder(IdCollection<T> table)
        {
            _chunks = [.. table._chunks];
            _count = table.Count;
        }

        public int Count => _count;

        public T? Find(int id) => IdCollection<T>.Find(_chunks, _chunks.Count, id);

        /// <summary>Sets the value of <paramref name="id"/>; null removes it.</summary>
        public void Set(int id, T? value)
        {
            if (_chunks.Count == 0 || id > LastId())
            {
                if (value is not null)
                {
                    Append(id, value);
                }

                return;
            }

            var c = Math.Max(0, FindChunk(_chunks, _chunks.Count, id));
            var chunk = _chunks[c];
            var i = Array.BinarySearch(chunk.Ids, 0, chunk.Count, id);
            if (i >= 0)
            {
                if (ReferenceEquals(chunk.Values[i], value))
                {
                    return;
                }

                chunk = Own(c);
                if (value is null)
                {
                    chunk.RemoveAt(i);
                    _count--;
                    if (chunk.Count == 0)
                    {
                        _chunks.RemoveAt(c);
                    }
                }
                else
                {
                    chunk.Values[i] = value;
                }

                return;
            }

            if (value is null)
            {
                return;
            }

            chunk = Own(c);
            chunk.Insert(~i, id, value);
            _count++;
            if (chunk.Count >= 2 * ChunkSize)
            {
                Split(c);
            }
        }

        /// <summary>The table as it is now. The builder stays usable; later changes copy again.</summary>
        public IdCollection<T> ToTable()
        {
            _owned.Clear();
            return new IdCollection<T>([.. _chunks], _count);
        }

        private int LastId()
        {
            var last = _chunks[^1];
            return last.Ids[last.Count - 1];
        }

        private void Append(int id, T value)
        {
            Chunk chunk;
            if (_chunks.Count > 0 && _chunks[^1].Count < ChunkSize)
            {
                chunk = Own(_chunks.Count - 1);
            }
            else
            {
                chunk = new Chunk(new int[ChunkSize], new T[ChunkSize], 0);
                _chunks.Add(chunk);
                _owned.Add(chunk);
            }

            chunk.Insert(chunk.Count, id, value);
            _count++;
        }

        private Chunk Own(int c)
        {
            var chunk = _chunks[c];
            if (_owned.Contains(chunk))
            {
                return chunk;
            }

            var copy = chunk.CopyWithRoom(chunk.Count < ChunkSize ? ChunkSize - chunk.Count : 8);
            _chunks[c] = copy;
            _owned.Add(copy);
            return copy;
        }

        private void Split(int c)
        {
            var chunk = _chunks[c];
            var half = chunk.Count / 2;
            var rest = chunk.Count - half;
            var right = new Chunk(new int[ChunkSize + rest], new T[ChunkSize + rest], rest);
            Array.Copy(chunk.Ids, half, right.Ids, 0, rest);
            Array.Copy(chunk.Values, half, right.Values, 0, rest);
            Array.Clear(chunk.Values, half, rest);
            chunk.Count = half;
            _chunks.Insert(c + 1, right);
            _owned.Add(right);
        }
    }
}
