using System.Collections.Frozen;
using FsDirectory.Collections;

namespace FsDirectory.IpAuth;

/// <summary>
/// Immutable index of usable IP rules. A lookup probes one hash table per mask length present
/// (longest first) and, inside a network, one table per tech-prefix length present (longest first),
/// so its cost depends on how many distinct lengths exist, not on how many rules: at most 33 probes
/// for IPv4 and 129 for IPv6 whatever the rule count. ASTPP instead scans the whole table per call.
/// The tables are sharded (<see cref="ShardedDictionary{TKey, TValue}"/>), so an <see cref="Editor"/> makes
/// the next version after a few changed rules by copying a few shards, sharing the rest.
/// </summary>
public sealed class IpRuleIndex
{
    public static readonly IpRuleIndex Empty = new([]);

    private readonly Family<uint, V4> _v4;
    private readonly Family<UInt128, V6> _v6;

    public IpRuleIndex(IReadOnlyCollection<IpRule> rules)
    {
        Count = rules.Count;
        // Sorted once, each network's rules form a run in precedence order: the tables are filled
        // from the runs without the per-network groupings that cost more than the index itself.
        var sorted = rules.ToArray();
        Array.Sort(sorted, static (a, b) =>
        {
            var c = b.Network.IsV4.CompareTo(a.Network.IsV4);
            c = c != 0 ? c : b.Network.PrefixLength.CompareTo(a.Network.PrefixLength);
            c = c != 0 ? c : a.Network.Bits.CompareTo(b.Network.Bits);
            return c != 0 ? c : IpRule.CompareByPrecedence(a, b);
        });
        var v4Count = sorted.TakeWhile(r => r.Network.IsV4).Count();
        _v4 = new Family<uint, V4>(sorted.AsSpan(0, v4Count));
        _v6 = new Family<UInt128, V6>(sorted.AsSpan(v4Count));
    }

    private IpRuleIndex(Family<uint, V4> v4, Family<UInt128, V6> v6, int count)
    {
        _v4 = v4;
        _v6 = v6;
        Count = count;
    }

    public int Count { get; }

    /// <summary>The winning rule for a call, or null. Pure and allocation-free.</summary>
    public IpRule? Match(IpAddressKey source, ReadOnlySpan<char> number, string? profile) =>
        source.IsV4 ? _v4.Match(source.Bits, number, profile) : _v6.Match(source.Bits, number, profile);

    /// <summary>Every rule that could take the call, best first (for the explain endpoint, not the hot path).</summary>
    public IReadOnlyList<IpRule> Candidates(IpAddressKey source, string number, string? profile)
    {
        var networks = source.IsV4 ? _v4.Containing(source.Bits) : _v6.Containing(source.Bits);
        var list = networks
            .SelectMany(n => n.All)
            .Where(r => r.AppliesToProfile(profile) && r.PrefixMatches(number))
            .ToList();
        list.Sort(IpRule.CompareByPrecedence);
        return list;
    }

    /// <summary>
    /// Every rule with the network of the slot it is filed under (for the snapshot self-check: a rule
    /// filed under another network, or missing, would answer calls wrongly).
    /// </summary>
    public IEnumerable<(IpNetwork Slot, IpRule Rule)> Slots() => _v4.Slots().Concat(_v6.Slots());

    /// <summary>The rules filed under exactly this network (none when the network has no slot).</summary>
    public IEnumerable<IpRule> RulesAt(IpNetwork network) =>
        network.IsV4 ? _v4.RulesAt(network) : _v6.RulesAt(network);

    /// <summary>Changes on top of this index; the index itself never changes.</summary>
    public Editor Edit() => new(this);

    /// <summary>
    /// Collects removed and added rules, then builds the next index from this one: only the networks
    /// they touch get new slots, and only the shards holding those slots are copied.
    /// </summary>
    public sealed class Editor
    {
        private readonly IpRuleIndex _index;
        private readonly Family<uint, V4>.Changes _v4 = new();
        private readonly Family<UInt128, V6>.Changes _v6 = new();

        internal Editor(IpRuleIndex index) => _index = index;

        public bool IsEmpty => _v4.IsEmpty && _v6.IsEmpty;

        /// <summary>Removes this rule object (the one the index holds).</summary>
        public void Remove(IpRule rule)
        {
            if (rule.Network.IsV4)
            {
                _v4.Remove(rule);
            }
            else
            {
                _v6.Remove(rule);
            }
        }

        public void Add(IpRule rule)
        {
            if (rule.Network.IsV4)
            {
                _v4.Add(rule);
            }
            else
            {
                _v6.Add(rule);
            }
        }

        public IpRuleIndex ToIndex()
        {
            if (IsEmpty)
            {
                return _index;
            }

            var v4 = _index._v4.Apply(_v4, out var v4Delta);
            var v6 = _index._v6.Apply(_v6, out var v6Delta);
            return new IpRuleIndex(v4, v6, _index.Count + v4Delta + v6Delta);
        }
    }

    /// <summary>How an address family's bits become a table key: IPv4 networks are keyed by 32 bits, not 128.</summary>
    private interface IAddressWidth<TKey>
    {
        static abstract int Width { get; }

        static abstract bool IsV4 { get; }

        static abstract TKey Key(UInt128 bits);

        static abstract UInt128 Bits(TKey key);
    }

    private sealed class V4 : IAddressWidth<uint>
    {
        public static int Width => 32;

        public static bool IsV4 => true;

        public static uint Key(UInt128 bits) => (uint)bits;

        public static UInt128 Bits(uint key) => key;
    }

    private sealed class V6 : IAddressWidth<UInt128>
    {
        public static int Width => 128;

        public static bool IsV4 => false;

        public static UInt128 Key(UInt128 bits) => bits;

        public static UInt128 Bits(UInt128 key) => key;
    }

    private sealed class Family<TKey, TWidth>
        where TKey : struct, IEquatable<TKey>
        where TWidth : IAddressWidth<TKey>
    {
        private readonly int[] _lengths;
        private readonly UInt128[] _masks;
        private readonly ShardedDictionary<TKey, NetworkRules>[] _tables;

        /// <param name="sorted">Rules of this family, longest mask first, then by network, then in precedence order.</param>
        public Family(ReadOnlySpan<IpRule> sorted)
        {
            var lengths = new List<int>();
            var tables = new List<ShardedDictionary<TKey, NetworkRules>>();
            var start = 0;
            while (start < sorted.Length)
            {
                var length = sorted[start].Network.PrefixLength;
                var end = start;
                var networks = 0;
                while (end < sorted.Length && sorted[end].Network.PrefixLength == length)
                {
                    if (end == start || sorted[end].Network.Bits != sorted[end - 1].Network.Bits)
                    {
                        networks++;
                    }

                    end++;
                }

                var table = new ShardedDictionary<TKey, NetworkRules>.Builder(networks);
                for (var run = start; run < end;)
                {
                    var bits = sorted[run].Network.Bits;
                    var runEnd = run + 1;
                    while (runEnd < end && sorted[runEnd].Network.Bits == bits)
                    {
                        runEnd++;
                    }

                    table.Set(TWidth.Key(bits), NetworkRules.Create(sorted[run..runEnd]));
                    run = runEnd;
                }

                lengths.Add(length);
                tables.Add(table.ToMap());
                start = end;
            }

            _lengths = [.. lengths];
            _tables = [.. tables];
            _masks = [.. _lengths.Select(l => IpNetwork.Mask(TWidth.Width, l))];
        }

        private Family(int[] lengths, ShardedDictionary<TKey, NetworkRules>[] tables)
        {
            _lengths = lengths;
            _tables = tables;
            _masks = [.. _lengths.Select(l => IpNetwork.Mask(TWidth.Width, l))];
        }

        public IpRule? Match(UInt128 address, ReadOnlySpan<char> number, string? profile)
        {
            IpRule? best = null;
            for (var l = 0; l < _tables.Length; l++)
            {
                if (!_tables[l].TryGetValue(TWidth.Key(address & _masks[l]), out var network))
                {
                    continue;
                }

                // Tables come longest mask first, so a shorter mask wins only with a strictly longer prefix.
                var rule = network.Best(number, profile, best is null ? -1 : best.PrefixLength);
                if (rule is not null)
                {
                    best = rule;
                }
            }

            return best;
        }

        public IEnumerable<NetworkRules> Containing(UInt128 address)
        {
            for (var l = 0; l < _tables.Length; l++)
            {
                if (_tables[l].TryGetValue(TWidth.Key(address & _masks[l]), out var network))
                {
                    yield return network;
                }
            }
        }

        public IEnumerable<IpRule> RulesAt(IpNetwork network)
        {
            var l = Array.IndexOf(_lengths, network.PrefixLength);
            return l >= 0 && _tables[l].TryGetValue(TWidth.Key(network.Bits), out var rules) ? rules.All : [];
        }

        public IEnumerable<(IpNetwork Slot, IpRule Rule)> Slots()
        {
            for (var l = 0; l < _tables.Length; l++)
            {
                foreach (var (key, network) in _tables[l])
                {
                    var slot = new IpNetwork(TWidth.Bits(key), _lengths[l], TWidth.IsV4);
                    foreach (var rule in network.All)
                    {
                        yield return (slot, rule);
                    }
                }
            }
        }

        /// <summary>A new family with <paramref name="changes"/> applied; <paramref name="delta"/> is the change in rule count.</summary>
        public Family<TKey, TWidth> Apply(Changes changes, out int delta)
        {
            delta = 0;
            if (changes.IsEmpty)
            {
                return this;
            }

            var builders = new Dictionary<int, ShardedDictionary<TKey, NetworkRules>.Builder>();
            foreach (var ((length, key), edit) in changes.ByNetwork)
            {
                if (!builders.TryGetValue(length, out var table))
                {
                    var existing = Array.IndexOf(_lengths, length);
                    builders[length] = table = existing >= 0
                        ? _tables[existing].ToBuilder()
                        : new ShardedDictionary<TKey, NetworkRules>.Builder(0);
                }

                var rules = table.TryGetValue(key, out var current) ? current.All.ToList() : [];
                var before = rules.Count;
                rules.RemoveAll(r => edit.Removed.Exists(removed => ReferenceEquals(removed, r)));
                rules.AddRange(edit.Added);
                delta += rules.Count - before;
                if (rules.Count == 0)
                {
                    table.Remove(key);
                }
                else
                {
                    rules.Sort(IpRule.CompareByPrecedence);
                    table.Set(key, NetworkRules.Create(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(rules)));
                }
            }

            var tables = new SortedDictionary<int, ShardedDictionary<TKey, NetworkRules>>(Comparer<int>.Create(static (a, b) => b.CompareTo(a)));
            for (var l = 0; l < _lengths.Length; l++)
            {
                tables[_lengths[l]] = _tables[l];
            }

            foreach (var (length, builder) in builders)
            {
                tables[length] = builder.ToMap();
            }

            var kept = tables.Where(static t => t.Value.Count > 0).ToList();
            return new Family<TKey, TWidth>([.. kept.Select(static t => t.Key)], [.. kept.Select(static t => t.Value)]);
        }

        /// <summary>Removed and added rules of one family, grouped by the network slot they belong to.</summary>
        public sealed class Changes
        {
            public Dictionary<(int Length, TKey Key), NetworkEdit> ByNetwork { get; } = [];

            public bool IsEmpty => ByNetwork.Count == 0;

            /// <summary>Removes a rule of the index, or takes back one added earlier in the same batch.</summary>
            public void Remove(IpRule rule)
            {
                var edit = Edit(rule);
                var added = edit.Added.FindIndex(r => ReferenceEquals(r, rule));
                if (added >= 0)
                {
                    edit.Added.RemoveAt(added);
                }
                else
                {
                    edit.Removed.Add(rule);
                }
            }

            public void Add(IpRule rule) => Edit(rule).Added.Add(rule);

            private NetworkEdit Edit(IpRule rule)
            {
                var slot = (rule.Network.PrefixLength, TWidth.Key(rule.Network.Bits));
                if (!ByNetwork.TryGetValue(slot, out var edit))
                {
                    ByNetwork[slot] = edit = new NetworkEdit();
                }

                return edit;
            }
        }
    }

    private sealed class NetworkEdit
    {
        public List<IpRule> Removed { get; } = [];

        public List<IpRule> Added { get; } = [];
    }

    /// <summary>
    /// The rules of one network, stored inline in the table: almost every network has a single rule,
    /// and a million of them must not cost a million extra objects (the index stays a small part of
    /// the snapshot). One rule is held as itself, a few as an array in precedence order (a scan beats
    /// a hash probe there), and a crowded network as a table by tech prefix.
    /// </summary>
    private readonly struct NetworkRules
    {
        private const int ScanLimit = 8;

        // IpRule, IpRule[] (longest prefix first, then lowest id) or PrefixTable.
        private readonly object _rules;

        private NetworkRules(object rules) => _rules = rules;

        /// <param name="rules">The network's rules in precedence order: longest prefix first, then lowest id.</param>
        public static NetworkRules Create(ReadOnlySpan<IpRule> rules) =>
            rules.Length == 1 ? new NetworkRules(rules[0])
            : rules.Length <= ScanLimit ? new NetworkRules(rules.ToArray())
            : new NetworkRules(new PrefixTable(rules.ToArray()));

        public IEnumerable<IpRule> All => _rules switch
        {
            IpRule rule => [rule],
            IpRule[] rules => rules,
            _ => ((PrefixTable)_rules).All,
        };

        /// <summary>Longest literal prefix of <paramref name="number"/> with a rule for the profile, longer than <paramref name="mustBeat"/>.</summary>
        public IpRule? Best(ReadOnlySpan<char> number, string? profile, int mustBeat)
        {
            if (_rules is IpRule single)
            {
                return Takes(single, number, profile, mustBeat) ? single : null;
            }

            if (_rules is IpRule[] rules)
            {
                foreach (var rule in rules)
                {
                    if (rule.PrefixLength <= mustBeat)
                    {
                        return null;
                    }

                    if (Takes(rule, number, profile, mustBeat))
                    {
                        return rule;
                    }
                }

                return null;
            }

            return ((PrefixTable)_rules).Best(number, profile, mustBeat);
        }

        private static bool Takes(IpRule rule, ReadOnlySpan<char> number, string? profile, int mustBeat) =>
            rule.PrefixLength > mustBeat && rule.PrefixMatches(number) && rule.AppliesToProfile(profile);
    }

    /// <summary>A network shared by many accounts (an SBC told apart by tech prefix): one probe per prefix length.</summary>
    private sealed class PrefixTable
    {
        private readonly int[] _prefixLengths;
        private readonly FrozenDictionary<string, IpRule[]>.AlternateLookup<ReadOnlySpan<char>> _byPrefix;

        public PrefixTable(IpRule[] byPrecedence)
        {
            All = byPrecedence;
            var byPrefix = byPrecedence.GroupBy(r => r.Prefix, StringComparer.Ordinal)
                .ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
            _byPrefix = byPrefix.GetAlternateLookup<ReadOnlySpan<char>>();
            _prefixLengths = byPrefix.Keys.Select(k => k.Length).Distinct().OrderDescending().ToArray();
        }

        public IpRule[] All { get; }

        public IpRule? Best(ReadOnlySpan<char> number, string? profile, int mustBeat)
        {
            foreach (var length in _prefixLengths)
            {
                if (length <= mustBeat)
                {
                    return null;
                }

                if (length > number.Length || !_byPrefix.TryGetValue(number[..length], out var rules))
                {
                    continue;
                }

                foreach (var rule in rules)
                {
                    if (rule.AppliesToProfile(profile))
                    {
                        return rule;
                    }
                }
            }

            return null;
        }
    }
}
