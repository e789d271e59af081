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
        foreach (var family in networks.GroupBy(n => n.IsV4).OrderByDescending(g => g.Key))
        {
            var width = family.Key ? 32 : 128;
            foreach (var (first, last) in MergeRanges(family))
            {
                AppendRange(result, first, last, width, family.Key);
            }
        }

        return result;
    }

    private static List<(UInt128 First, UInt128 Last)> MergeRanges(IEnumerable<IpNetwork> networks)
    {
        var ranges = new List<(UInt128 First, UInt128 Last)>();
        foreach (var network in networks.Select(n => (n.First, n.Last)).OrderBy(r => r.First))
        {
            if (ranges.Count > 0)
            {
                var (first, last) = ranges[^1];
                // Overlapping or directly adjacent (guarding the +1 at the top of the address space).
                if (network.First <= last || (last != UInt128.MaxValue && network.First == last + 1))
                {
                    if (network.Last > last)
                    {
                        ranges[^1] = (first, network.Last);
                    }

                    continue;
                }
            }

            ranges.Add(network);
        }

        return ranges;
    }

    /// <summary>Splits [first, last] into the fewest aligned CIDR blocks.</summary>
    private static void AppendRange(List<IpNetwork> result, UInt128 first, UInt128 last, int width, bool isV4)
    {
        while (true)
        {
            // Largest block aligned at `first` that does not pass `last`.
            var size = first == 0 ? width : Math.Min(width, (int)UInt128.TrailingZeroCount(first));
            while (size > 0 && first + (IpNetwork.AllOnes(size)) > last)
            {
                size--;
            }

            result.Add(new IpNetwork(first, width - size, isV4));
            var blockLast = first + IpNetwork.AllOnes(size);
            if (blockLast >= last)
            {
                return;
            }

            first = blockLast + 1;
        }
    }
}
