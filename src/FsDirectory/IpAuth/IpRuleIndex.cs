using System.Collections.Frozen;

namespace FsDirectory.IpAuth;

/// <summary>
/// Immutable index of usable IP rules. A lookup probes one hash table per mask length present
/// (longest first) and, inside a network, one table per tech-prefix length present (longest first),
/// so its cost depends on how many distinct lengths exist, not on how many rules: at most 33 probes
/// for IPv4 and 129 for IPv6 whatever the rule count. ASTPP instead scans the whole table per call.
/// </summary>
public sealed class IpRuleIndex
{
    public static readonly IpRuleIndex Empty = new([]);

    private readonly Family _v4;
    private readonly Family _v6;

    public IpRuleIndex(IReadOnlyCollection<IpRule> rules)
    {
        Count = rules.Count;
        _v4 = new Family(32, rules.Where(r => r.Network.IsV4));
        _v6 = new Family(128, rules.Where(r => !r.Network.IsV4));
    }

    public int Count { get; }

    /// <summary>The winning rule for a call, or null. Pure and allocation-free.</summary>
    public IpRule? Match(IpAddressKey source, ReadOnlySpan<char> number, string? profile)
    {
        var family = source.IsV4 ? _v4 : _v6;
        IpRule? best = null;
        for (var l = 0; l < family.Lengths.Length; l++)
        {
            var length = family.Lengths[l];
            if (!family.Tables[l].TryGetValue(source.Bits & family.Masks[length], out var network))
            {
                continue;
            }

            // Networks come longest mask first, so a shorter mask wins only with a strictly longer prefix.
            var rule = network.Best(number, profile, best is null ? -1 : best.Prefix.Length);
            if (rule is not null)
            {
                best = rule;
            }
        }

        return best;
    }

    /// <summary>Every rule that could take the call, best first (for the explain endpoint, not the hot path).</summary>
    public IReadOnlyList<IpRule> Candidates(IpAddressKey source, string number, string? profile)
    {
        var family = source.IsV4 ? _v4 : _v6;
        var list = new List<IpRule>();
        for (var l = 0; l < family.Lengths.Length; l++)
        {
            if (family.Tables[l].TryGetValue(source.Bits & family.Masks[family.Lengths[l]], out var network))
            {
                list.AddRange(network.All.Where(r =>
                    r.AppliesToProfile(profile) && number.StartsWith(r.Prefix, StringComparison.Ordinal)));
            }
        }

        list.Sort(IpRule.CompareByPrecedence);
        return list;
    }

    private sealed class Family
    {
        public Family(int width, IEnumerable<IpRule> rules)
        {
            Masks = Enumerable.Range(0, width + 1).Select(l => IpNetwork.Mask(width, l)).ToArray();
            var byLength = rules
                .GroupBy(r => r.Network.PrefixLength)
                .OrderByDescending(g => g.Key)
                .ToArray();
            Lengths = byLength.Select(g => g.Key).ToArray();
            Tables = byLength
                .Select(g => g.GroupBy(r => r.Network.Bits)
                    .ToFrozenDictionary(n => n.Key, n => new NetworkRules(n)))
                .ToArray();
        }

        public int[] Lengths { get; }
        public FrozenDictionary<UInt128, NetworkRules>[] Tables { get; }
        public UInt128[] Masks { get; }
    }

    /// <summary>The rules of one network, reachable by tech prefix.</summary>
    private sealed class NetworkRules
    {
        // Almost every network has one or two rules: a scan of a short array beats a hash probe and
        // saves a frozen dictionary per network (hundreds of bytes each, a gigabyte at 1M rules).
        private const int ScanLimit = 8;

        private readonly IpRule[]? _byPrecedence;
        private readonly int[] _prefixLengths = [];
        private readonly FrozenDictionary<string, IpRule[]>.AlternateLookup<ReadOnlySpan<char>> _byPrefix;

        public NetworkRules(IEnumerable<IpRule> rules)
        {
            All = rules.OrderBy(r => r.Id).ToArray();
            if (All.Length <= ScanLimit)
            {
                // Longest prefix first, then lowest id (the mask is the same for every rule here).
                _byPrecedence = All.OrderByDescending(r => r.Prefix.Length).ThenBy(r => r.Id).ToArray();
                return;
            }

            var byPrefix = All.GroupBy(r => r.Prefix, StringComparer.Ordinal)
                .ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
            _byPrefix = byPrefix.GetAlternateLookup<ReadOnlySpan<char>>();
            _prefixLengths = byPrefix.Keys.Select(k => k.Length).Distinct().OrderDescending().ToArray();
        }

        public IpRule[] All { get; }

        /// <summary>Longest literal prefix of <paramref name="number"/> with a rule for the profile, longer than <paramref name="mustBeat"/>.</summary>
        public IpRule? Best(ReadOnlySpan<char> number, string? profile, int mustBeat)
        {
            if (_byPrecedence is not null)
            {
                foreach (var rule in _byPrecedence)
                {
                    if (rule.Prefix.Length <= mustBeat)
                    {
                        return null;
                    }

                    if (number.StartsWith(rule.Prefix, StringComparison.Ordinal) && rule.AppliesToProfile(profile))
                    {
                        return rule;
                    }
                }

                return null;
            }

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
