using FsDirectory.IpAuth;

namespace FsDirectory.Acl;

/// <summary>
/// Reduces a set of networks to the smallest set of CIDRs covering exactly the same addresses:
/// duplicates and nested networks disappear, adjacent ones merge. FreeSWITCH scans each ACL list
/// linearly under a global lock on every INVITE and refuses replies over response-max-bytes, so the
/// list it gets must be as short as the address space allows.
/// </summary>
public static class CidrAggregator
{
    public static List<IpNetwork> Aggregate(IEnumerable<IpNetwork> networks)
    {
        var result = new List<IpNetwork>();
        SortedRanges.From(networks, 0).Emit(result.Add);
        return result;
    }

    /// <summary>
    /// Networks as address ranges sorted by first address, ready to be merged (as often as needed:
    /// acl.conf counts its nodes, then writes them). IPv4 ranges are packed into one <c>ulong</c>
    /// each, so a million rules cost 8 MB here rather than lists of 128-bit pairs and their copies.
    /// </summary>
    public sealed class SortedRanges
    {
        private readonly ulong[] _v4;
        private readonly int _v4Count;
        private readonly (UInt128 First, UInt128 Last)[] _v6;
        private readonly int _v6Count;

        private SortedRanges(ulong[] v4, int v4Count, (UInt128 First, UInt128 Last)[] v6, int v6Count)
        {
            _v4 = v4;
            _v4Count = v4Count;
            _v6 = v6;
            _v6Count = v6Count;
        }

        /// <param name="sizeHint">How many networks to expect (at most), so the arrays are allocated once.</param>
        public static SortedRanges From(IEnumerable<IpNetwork> networks, int sizeHint)
        {
            var v4 = new ulong[Math.Max(16, sizeHint)];
            var v6 = new (UInt128 First, UInt128 Last)[16];
            int v4Count = 0, v6Count = 0;
            foreach (var network in networks)
            {
                if (network.IsV4)
                {
                    if (v4Count == v4.Length)
                    {
                        Array.Resize(ref v4, v4.Length * 2);
                    }

                    v4[v4Count++] = ((ulong)(uint)network.First << 32) | (uint)network.Last;
                }
                else
                {
                    if (v6Count == v6.Length)
                    {
                        Array.Resize(ref v6, v6.Length * 2);
                    }

                    v6[v6Count++] = (network.First, network.Last);
                }
            }

            v4.AsSpan(0, v4Count).Sort();
            v6.AsSpan(0, v6Count).Sort(static (a, b) => a.First.CompareTo(b.First));
            return new SortedRanges(v4, v4Count, v6, v6Count);
        }

        /// <summary>The minimal cover, IPv4 first, each family in address order.</summary>
        public void Emit(Action<IpNetwork> emit)
        {
            var i = 0;
            while (i < _v4Count)
            {
                var (first, last) = ((ulong)(uint)(_v4[i] >> 32), (ulong)(uint)_v4[i]);
                i++;
                // Absorb every range that overlaps or directly follows (no overflow: IPv4 fits in 64 bits).
                while (i < _v4Count && (_v4[i] >> 32) <= last + 1)
                {
                    last = Math.Max(last, (uint)_v4[i++]);
                }

                EmitRange(emit, first, last, 32, isV4: true);
            }

            i = 0;
            while (i < _v6Count)
            {
                var (first, last) = _v6[i++];
                while (i < _v6Count && Continues(last, _v6[i].First))
                {
                    last = UInt128.Max(last, _v6[i++].Last);
                }

                EmitRange(emit, first, last, 128, isV4: false);
            }
        }
    }

    /// <summary>Whether a range starting at <paramref name="first"/> overlaps or directly follows one ending at <paramref name="last"/> (one range with it).</summary>
    internal static bool Continues(UInt128 last, UInt128 first) =>
        first <= last || (last != UInt128.MaxValue && first == last + 1); // guarding the +1 at the top of the address space

    /// <summary>Splits [first, last] into the fewest aligned CIDR blocks.</summary>
    internal static void EmitRange(Action<IpNetwork> emit, UInt128 first, UInt128 last, int width, bool isV4)
    {
        while (true)
        {
            // Largest block aligned at `first` that does not pass `last`.
            var size = first == 0 ? width : Math.Min(width, (int)UInt128.TrailingZeroCount(first));
            while (size > 0 && first + (IpNetwork.AllOnes(size)) > last)
            {
                size--;
            }

            emit(new IpNetwork(first, width - size, isV4));
            var blockLast = first + IpNetwork.AllOnes(size);
            if (blockLast >= last)
            {
                return;
            }

            first = blockLast + 1;
        }
    }
}
