using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace FsDirectory.Collections;

/// <summary>
/// An immutable hash map split into shards of a few hundred entries, so that a new version after a
/// change copies one shard and the shard array instead of the whole table (a million-entry
/// dictionary is tens of megabytes, and a copy per edit would be garbage the size of the index).
/// A lookup costs one multiply and one array read more than a plain <see cref="Dictionary{TKey, TValue}"/>.
/// Shards stay under the large object heap threshold, so the garbage that edits leave is collected young.
/// </summary>
public sealed class ShardedDictionary<TKey, TValue> : IReadOnlyDictionary<TKey, TValue>
    where TKey : notnull
{
    /// <summary>Entries per shard aimed at when a map is sized (a shard is then ~15 KB).</summary>
    private const int TargetShardSize = 512;

    private readonly Dictionary<TKey, TValue>[] _shards;
    private readonly IEqualityComparer<TKey>? _comparer;
    private readonly int _mask;

    private ShardedDictionary(Dictionary<TKey, TValue>[] shards, IEqualityComparer<TKey>? comparer, int count)
    {
        _shards = shards;
        _comparer = comparer;
        _mask = shards.Length - 1;
        Count = count;
    }

    public int Count { get; }

    public TValue this[TKey key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException();

    public IEnumerable<TKey> Keys => this.Select(static e => e.Key);

    public IEnumerable<TValue> Values => this.Select(static e => e.Value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value) =>
        _shards[ShardOf(key, _comparer, _mask)].TryGetValue(key, out value);

    public bool ContainsKey(TKey key) => TryGetValue(key, out _);

    public IEnumerator<KeyValuePair<TKey, TValue>> GetEnumerator()
    {
        foreach (var shard in _shards)
        {
            foreach (var entry in shard)
            {
                yield return entry;
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A batch of changes on top of this map; the map itself never changes.</summary>
    public Builder ToBuilder() => new(this);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ShardOf(TKey key, IEqualityComparer<TKey>? comparer, int mask)
    {
        if (mask == 0)
        {
            return 0;
        }

        var hash = comparer is null ? EqualityComparer<TKey>.Default.GetHashCode(key) : comparer.GetHashCode(key);
        // Fibonacci hashing: the dictionaries inside use the low bits, the shard comes from the mixed middle ones.
        return (int)(((uint)hash * 0x9E3779B9u) >> 12) & mask;
    }

    internal static int ShardCountFor(int count) =>
        (int)Math.Min(1 << 20, BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, (count + TargetShardSize - 1) / TargetShardSize)));

    public sealed class Builder
    {
        private readonly IEqualityComparer<TKey>? _comparer;
        private readonly HashSet<Dictionary<TKey, TValue>> _owned = new(ReferenceEqualityComparer.Instance);
        private Dictionary<TKey, TValue>[] _shards;
        private int _count;
        private bool _fresh;

        internal Builder(ShardedDictionary<TKey, TValue> map)
        {
            _comparer = map._comparer;
            _shards = (Dictionary<TKey, TValue>[])map._shards.Clone();
            _count = map.Count;
        }

        /// <summary>A builder for a new map of about <paramref name="expectedCount"/> entries, its shards sized for them.</summary>
        public Builder(int expectedCount, IEqualityComparer<TKey>? comparer = null)
        {
            _comparer = comparer;
            var shards = ShardCountFor(expectedCount);
            // A little over the average: hashed keys spread evenly, and a shard that overflows just grows.
            var capacity = (int)(expectedCount / (double)shards * 1.2) + 8;
            _shards = new Dictionary<TKey, TValue>[shards];
            for (var i = 0; i < shards; i++)
            {
                _owned.Add(_shards[i] = new Dictionary<TKey, TValue>(capacity, comparer));
            }

            _fresh = true;
        }

        public int Count => _count;

        public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value) =>
            _shards[ShardOf(key, _comparer, _shards.Length - 1)].TryGetValue(key, out value);

        public void Set(TKey key, TValue value)
        {
            var shard = Own(key);
            var before = shard.Count;
            shard[key] = value;
            _count += shard.Count - before;
        }

        public void Remove(TKey key)
        {
            var s = ShardOf(key, _comparer, _shards.Length - 1);
            if (!_shards[s].ContainsKey(key))
            {
                return;
            }

            Own(key).Remove(key);
            _count--;
        }

        /// <summary>
        /// The map as it is now. A map that has grown far past its shard count is re-sharded here, so
        /// that an edit never has to copy an overgrown shard. The builder stays usable.
        /// </summary>
        public ShardedDictionary<TKey, TValue> ToMap()
        {
            if (ShardCountFor(_count) > _shards.Length * 4)
            {
                var resharded = new Builder(_count, _comparer);
                foreach (var shard in _shards)
                {
                    foreach (var (key, value) in shard)
                    {
                        resharded.Set(key, value);
                    }
                }

                _shards = resharded._shards;
            }

            // A map built whole keeps no room to spare: at a million entries the margin is megabytes.
            if (_fresh)
            {
                foreach (var shard in _shards)
                {
                    shard.TrimExcess();
                }

                _fresh = false;
            }

            _owned.Clear();
            return new ShardedDictionary<TKey, TValue>((Dictionary<TKey, TValue>[])_shards.Clone(), _comparer, _count);
        }

        private Dictionary<TKey, TValue> Own(TKey key)
        {
            var s = ShardOf(key, _comparer, _shards.Length - 1);
            var shard = _shards[s];
            if (_owned.Contains(shard))
            {
                return shard;
            }

            var copy = new Dictionary<TKey, TValue>(shard.Count + 8, _comparer);
            foreach (var (k, v) in shard)
            {
                copy.Add(k, v);
            }

            _owned.Add(_shards[s] = copy);
            return copy;
        }
    }
}

