using System.Runtime.InteropServices;
using FsDirectory.Collections;
using FsDirectory.IpAuth;

namespace FsDirectory.Acl;

/// <summary>An address bucket of acl.conf: an IPv4 /16 or an IPv6 /64. IPv4 sorts first, then by address.</summary>
public readonly record struct AclBucketKey(bool IsV4, ulong Bits)
{
    public const int V4Length = 16;
    public const int V6Length = 64;

    /// <summary>The bucket a network lies in; false for a network wider than a bucket.</summary>
    public static bool TryOf(IpNetwork network, out AclBucketKey key)
    {
        var length = network.IsV4 ? V4Length : V6Length;
        key = network.PrefixLength >= length ? new AclBucketKey(network.IsV4, (ulong)(network.Bits >> (network.Width - length))) : default;
        return network.PrefixLength >= length;
    }

    public IpNetwork Network => IsV4 ? new IpNetwork((UInt128)Bits << 16, V4Length, true) : new IpNetwork((UInt128)Bits << 64, V6Length, false);

    public static int Compare(AclBucketKey a, AclBucketKey b) => a.IsV4 != b.IsV4 ? (a.IsV4 ? -1 : 1) : a.Bits.CompareTo(b.Bits);
}

/// <summary>The nodes one bucket contributes to one list, worked out once and kept packed (<see cref="PackedNodes"/>); <see cref="Full"/>: the bucket is covered whole (it may merge with its neighbours).</summary>
public sealed record AclFragment(PackedNodes? Nodes, bool Full);

/// <summary>
/// The networks of one bucket's usable rules, each with the profile it applies on (null: every
/// profile), sorted by address. Immutable, and shared between snapshots while none of its rules
/// changes; the minimal cover it contributes to each list is worked out on first use and kept with
/// it, packed, so after an edit acl.conf aggregates again only the buckets the edit touched.
/// </summary>
public sealed class AclBucket
{
    // IPv4: the low 16 bits of first and last address, packed; IPv6: the low 64 bits of each.
    private readonly uint[]? _v4;
    private readonly (ulong First, ulong Last)[]? _v6;

    // Per entry; null when every entry applies on every profile (the usual case, and no memory for it).
    private readonly string?[]? _profiles;
    private (string List, AclFragment Fragment)[] _fragments = [];

    private AclBucket(AclBucketKey key, uint[]? v4, (ulong, ulong)[]? v6, string?[]? profiles)
    {
        Key = key;
        _v4 = v4;
        _v6 = v6;
        _profiles = profiles;
    }

    public AclBucketKey Key { get; }

    public int Count => _v4?.Length ?? _v6!.Length;

    /// <summary>The entries as (first, last, profile), sorted by address.</summary>
    public IEnumerable<(UInt128 First, UInt128 Last, string? Profile)> Entries
    {
        get
        {
            for (var i = 0; i < Count; i++)
            {
                yield return Entry(i);
            }
        }
    }

    /// <summary>A bucket of the given entries (any order; they must all lie in the bucket).</summary>
    public static AclBucket Of(AclBucketKey key, List<(UInt128 First, UInt128 Last, string? Profile)> entries) =>
        Merge(key, null, entries, removed: null) ?? throw new ArgumentException("a bucket needs at least one entry", nameof(entries));

    /// <summary>The nodes this bucket contributes to <paramref name="list"/>; fragments of lists not in <paramref name="lists"/> are let go.</summary>
    public AclFragment FragmentFor(string list, IReadOnlyCollection<string> lists)
    {
        // Called for every bucket and list of every acl.conf: the hit path allocates nothing (no closure).
        foreach (var (name, fragment) in Volatile.Read(ref _fragments))
        {
            if (name == list)
            {
                return fragment;
            }
        }

        return WriteFragment(list, lists);
    }

    private AclFragment WriteFragment(string list, IReadOnlyCollection<string> lists)
    {
        var made = Write(list);
        while (true)
        {
            var cached = Volatile.Read(ref _fragments);
            var next = cached.Where(f => lists.Contains(f.List) && f.List != list).Append((list, made)).ToArray();
            // Another thread may have written it meanwhile: the same fragment, either is fine.
            if (Interlocked.CompareExchange(ref _fragments, next, cached) == cached)
            {
                return made;
            }
        }
    }

    /// <summary>
    /// This bucket (null: a new one) with <paramref name="added"/> entries added and <paramref name="removed"/>
    /// taken out (each as many times as counted), or null when none is left. Entries are sorted by
    /// address, then profile, so the same entries always make the same bucket. Merged in one pass into arrays
    /// of the final size: a dense bucket holds a hundred thousand entries, and an edit of one of its
    /// rules must not copy them through lists of 40-byte tuples.
    /// </summary>
    public static AclBucket? Merge(AclBucketKey key, AclBucket? bucket, List<(UInt128 First, UInt128 Last, string? Profile)> added, Dictionary<(UInt128, UInt128, string?), int>? removed)
    {
        added.Sort(CompareEntries);
        var existing = bucket?.Count ?? 0;
        var capacity = existing + added.Count;
        var v4 = key.IsV4 ? new uint[capacity] : null;
        var v6 = key.IsV4 ? null : new (ulong First, ulong Last)[capacity];
        string?[]? profiles = null;
        var count = 0;
        int i = 0, a = 0;
        // The bucket's next entry, unpacked once however many added entries go before it.
        var kept = existing > 0 ? bucket!.Entry(0) : default;
        while (i < existing || a < added.Count)
        {
            (UInt128 First, UInt128 Last, string? Profile) entry;
            if (a == added.Count || (i < existing && CompareEntries(kept, added[a]) <= 0))
            {
                entry = kept;
                if (++i < existing)
                {
                    kept = bucket!.Entry(i);
                }

                if (removed is not null && removed.TryGetValue(entry, out var left) && left > 0)
                {
                    removed[entry] = left - 1;
                    continue;
                }
            }
            else
            {
                entry = added[a++];
            }

            if (v4 is not null)
            {
                v4[count] = ((uint)(ushort)entry.First << 16) | (ushort)entry.Last;
            }
            else
            {
                v6![count] = ((ulong)entry.First, (ulong)entry.Last);
            }

            if (entry.Profile is not null)
            {
                (profiles ??= new string?[capacity])[count] = entry.Profile;
            }

            count++;
        }

        return count == 0 ? null
            : count == capacity ? new AclBucket(key, v4, v6, profiles)
            : new AclBucket(key, v4?[..count], v6?[..count], profiles?[..count]);
    }

    private static int CompareEntries((UInt128 First, UInt128 Last, string? Profile) a, (UInt128 First, UInt128 Last, string? Profile) b) =>
        a.First != b.First ? a.First.CompareTo(b.First)
        : a.Last != b.Last ? a.Last.CompareTo(b.Last)
        : string.CompareOrdinal(a.Profile, b.Profile);

    private (UInt128 First, UInt128 Last, string? Profile) Entry(int i)
    {
        var (first, last) = Range(i);
        return (first, last, _profiles?[i]);
    }

    private (UInt128 First, UInt128 Last) Range(int i)
    {
        var network = Key.Network.Bits;
        return _v4 is { } v4
            ? (network | (v4[i] >> 16), network | (v4[i] & 0xFFFF))
            : (network | _v6![i].First, network | _v6[i].Last);
    }

    private AclFragment Write(string list)
    {
        var cover = new List<IpNetwork>();
        var merged = new List<(UInt128 First, UInt128 Last)>();
        for (var i = 0; i < Count; i++)
        {
            if (_profiles?[i] is { } profile && profile != list)
            {
                continue;
            }

            var (first, last) = Range(i);
            // Sorted by first address: a range overlapping or touching the last one extends it.
            if (merged.Count > 0 && (merged[^1].Last == UInt128.MaxValue || first <= merged[^1].Last + 1))
            {
                merged[^1] = (merged[^1].First, UInt128.Max(merged[^1].Last, last));
            }
            else
            {
                merged.Add((first, last));
            }
        }

        foreach (var (first, last) in merged)
        {
            CidrAggregator.EmitRange(cover.Add, first, last, Key.IsV4 ? 32 : 128, Key.IsV4);
        }

        if (cover.Count == 1 && cover[0] == Key.Network)
        {
            return new AclFragment(null, Full: true);
        }

        return new AclFragment(cover.Count == 0 ? null : PackedNodes.Of(Key, cover), Full: false);
    }
}

/// <summary>
/// What acl.conf is made of: the usable rules' networks by address bucket, plus the few networks wider
/// than a bucket. The minimal cover of a list is the covers of its buckets side by side, except where
/// a wide network or a fully covered bucket makes a larger block: blocks are aligned, so a bucket is
/// either inside such a block or outside it, and the few blocks are aggregated on their own.
/// </summary>
public sealed class AclInputs
{
    public static readonly AclInputs Empty = new(new ShardedDictionary<AclBucketKey, AclBucket>.Builder(0).ToMap(), []);

    private readonly ShardedDictionary<AclBucketKey, AclBucket> _buckets;

    private AclInputs(ShardedDictionary<AclBucketKey, AclBucket> buckets, (IpNetwork Network, string? Profile)[] wide)
    {
        _buckets = buckets;
        Wide = wide;
    }

    /// <summary>Networks wider than a bucket (IPv4 shorter than /16, IPv6 than /64), with their profile.</summary>
    public IReadOnlyList<(IpNetwork Network, string? Profile)> Wide { get; }

    public int BucketCount => _buckets.Count;

    /// <summary>Every bucketed network with its profile, in no particular order (for the self-check).</summary>
    public IEnumerable<(IpNetwork Network, string? Profile)> BucketEntries =>
        _buckets.Values.SelectMany(static b => b.Entries.Select(e =>
            (new IpNetwork(e.First, (b.Key.IsV4 ? 32 : 128) - (int)UInt128.TrailingZeroCount(e.Last - e.First + 1), b.Key.IsV4), e.Profile)));

    public static AclInputs Build(IEnumerable<IpRule> rules)
    {
        var byBucket = new Dictionary<AclBucketKey, List<(UInt128, UInt128, string?)>>();
        var wide = new List<(IpNetwork, string?)>();
        foreach (var rule in rules)
        {
            if (!AclBucketKey.TryOf(rule.Network, out var key))
            {
                wide.Add((rule.Network, rule.Profile));
                continue;
            }

            ref var entries = ref CollectionsMarshal.GetValueRefOrAddDefault(byBucket, key, out _);
            (entries ??= []).Add((rule.Network.First, rule.Network.Last, rule.Profile));
        }

        var buckets = new ShardedDictionary<AclBucketKey, AclBucket>.Builder(byBucket.Count);
        foreach (var (key, entries) in byBucket)
        {
            buckets.Set(key, AclBucket.Of(key, entries));
        }

        return new AclInputs(buckets.ToMap(), [.. wide]);
    }

    /// <summary>
    /// The buckets in address order (IPv4 first), in an array rented from the shared pool (a hundred
    /// thousand buckets would be a large-object allocation per acl.conf); return it when done.
    /// </summary>
    public ArraySegment<AclBucket> RentSortedBuckets()
    {
        var buckets = System.Buffers.ArrayPool<AclBucket>.Shared.Rent(_buckets.Count);
        var count = 0;
        foreach (var bucket in _buckets.Values)
        {
            buckets[count++] = bucket;
        }

        Array.Sort(buckets, 0, count, Comparer<AclBucket>.Create(static (a, b) => AclBucketKey.Compare(a.Key, b.Key)));
        return new ArraySegment<AclBucket>(buckets, 0, count);
    }

    /// <summary>The same networks with the same profiles in every bucket (for the self-check).</summary>
    public bool SameAs(AclInputs other) =>
        _buckets.Count == other._buckets.Count
        && Wide.OrderBy(static w => w.Network.ToString(), StringComparer.Ordinal).ThenBy(static w => w.Profile, StringComparer.Ordinal)
            .SequenceEqual(other.Wide.OrderBy(static w => w.Network.ToString(), StringComparer.Ordinal).ThenBy(static w => w.Profile, StringComparer.Ordinal))
        && _buckets.All(b => other._buckets.TryGetValue(b.Key, out var o) && (ReferenceEquals(b.Value, o) || b.Value.Entries.SequenceEqual(o.Entries)));

    public Editor Edit() => new(this);

    /// <summary>Rule networks removed and added; a removal and an addition of the same network and profile cancel out, so the bucket (and its written fragments) stays.</summary>
    public sealed class Editor(AclInputs inputs)
    {
        private readonly Dictionary<AclBucketKey, List<(UInt128 First, UInt128 Last, string? Profile, int Delta)>> _changes = [];
        private readonly List<(IpNetwork Network, string? Profile, int Delta)> _wide = [];

        public bool IsEmpty => _changes.Count == 0 && _wide.Count == 0;

        public void Remove(IpRule rule) => Change(rule, -1);

        public void Add(IpRule rule) => Change(rule, +1);

        public AclInputs ToInputs()
        {
            var buckets = inputs._buckets.ToBuilder();
            var touched = false;
            foreach (var (key, changes) in _changes)
            {
                var net = changes.GroupBy(static c => (c.First, c.Last, c.Profile)).Select(static g => (g.Key, Delta: g.Sum(static c => c.Delta))).Where(static g => g.Delta != 0).ToList();
                if (net.Count == 0)
                {
                    continue;
                }

                // Removals matched in one pass over the sorted entries (a dense bucket holds tens of
                // thousands, and a bulk update removes thousands of them at once).
                var added = new List<(UInt128 First, UInt128 Last, string? Profile)>();
                var removals = new Dictionary<(UInt128, UInt128, string?), int>();
                foreach (var (entry, delta) in net)
                {
                    if (delta < 0)
                    {
                        removals[entry] = -delta;
                    }

                    for (var d = delta; d > 0; d--)
                    {
                        added.Add(entry);
                    }
                }

                touched = true;
                if (AclBucket.Merge(key, inputs._buckets.TryGetValue(key, out var bucket) ? bucket : null, added, removals) is { } merged)
                {
                    buckets.Set(key, merged);
                }
                else
                {
                    buckets.Remove(key);
                }
            }

            var wide = inputs.Wide.ToList();
            foreach (var ((network, profile), delta) in _wide.GroupBy(static w => (w.Network, w.Profile)).Select(static g => (g.Key, g.Sum(static w => w.Delta))))
            {
                for (var d = delta; d > 0; d--)
                {
                    wide.Add((network, profile));
                }

                for (var d = delta; d < 0; d++)
                {
                    if (wide.FindIndex(w => w.Network == network && w.Profile == profile) is var at and >= 0)
                    {
                        wide.RemoveAt(at);
                    }
                }

                touched |= delta != 0;
            }

            return touched ? new AclInputs(buckets.ToMap(), [.. wide]) : inputs;
        }

        private void Change(IpRule rule, int delta)
        {
            if (!AclBucketKey.TryOf(rule.Network, out var key))
            {
                _wide.Add((rule.Network, rule.Profile, delta));
                return;
            }

            if (!_changes.TryGetValue(key, out var list))
            {
                _changes[key] = list = [];
            }

            list.Add((rule.Network.First, rule.Network.Last, rule.Profile, delta));
        }
    }
}
