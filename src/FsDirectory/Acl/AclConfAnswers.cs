using FsDirectory.Data;
using FsDirectory.IpAuth;
using FsDirectory.Xml;
using Microsoft.Extensions.Options;

namespace FsDirectory.Acl;

/// <summary>
/// acl.conf: one default-deny list per active SIP profile, named as the profile (so the profile's
/// <c>apply-inbound-acl</c> finds it), allowing the aggregated networks of the usable rules that
/// apply on that profile; and the trusted-proxy lists the profiles' <c>apply-proxy-acl</c> name
/// (see <see cref="Proxies.TrustedProxies"/>), kept apart from the inbound lists so that a proxy's
/// address alone never lets a call in. Built once per snapshot from the snapshot's <see cref="AclInputs"/>: every
/// bucket the last edits did not touch brings its nodes already worked out and packed
/// (<see cref="PackedNodes"/>), so after an edit at a million rules the ~32 MB document is put
/// together from shared parts, not aggregated again, and it is served by writing those parts out
/// rather than joining them into one buffer.
/// </summary>
public sealed class AclConfAnswers(IOptionsMonitor<AclOptions> options) : ISnapshotWarmer
{
    public XmlAnswer Answer(Snapshot snapshot) =>
        new(snapshot.Answer("acl.conf", Build), "answered");

    public void Warm(Snapshot snapshot) => Answer(snapshot);

    /// <summary>The allowed networks per list name, aggregated from the rules directly: what tests and the admin API compare against.</summary>
    public static Dictionary<string, List<IpNetwork>> ProfileNetworks(Snapshot snapshot) =>
        snapshot.Profiles.Where(static p => p.ServesCustomerAcl).ToDictionary(
            p => p.Name,
            p => CidrAggregator.Aggregate(snapshot.UsableRules.Where(r => r.AppliesToProfile(p.Name)).Select(r => r.Network)),
            StringComparer.Ordinal);

    public static void WriteNode(FsXmlWriter xml, IpNetwork network) =>
        xml.Start("node").Attr("type", "allow").Attr("cidr", network).Close();

    private XmlParts Build(Snapshot snapshot)
    {
        var staticLists = options.CurrentValue.Lists;
        // A profile in dialplan mode has no customer list: its calls are decided by the dialplan answer
        // alone, so the switch's ACL does not grow with its customers.
        var lists = snapshot.Profiles.Where(static p => p.ServesCustomerAcl).Select(static p => p.Name).ToList();
        var buckets = snapshot.AclInputs.RentSortedBuckets();
        try
        {
            return Build(snapshot, staticLists, lists, buckets);
        }
        finally
        {
            System.Buffers.ArrayPool<AclBucket>.Shared.Return(buckets.Array!, clearArray: true);
        }
    }

    private static XmlParts Build(Snapshot snapshot, IReadOnlyList<StaticAclList> staticLists, List<string> lists, ArraySegment<AclBucket> buckets)
    {
        var parts = new Parts();
        parts.Xml.StartDocument("configuration");
        parts.Xml.Start("configuration").Attr("name", "acl.conf").Attr("description", "Network Lists (FsDirectory)").Open();
        parts.Xml.Start("network-lists").Open();
        foreach (var list in lists)
        {
            parts.Xml.Start("list").Attr("name", list).Attr("default", "deny").Open();
            WriteNetworks(parts, list, lists, buckets, snapshot.AclInputs.Wide);
            foreach (var staticList in staticLists.Where(l => l.Name == list))
            {
                WriteStaticNodes(parts.Xml, staticList);
            }

            parts.Xml.End("list");
        }

        // A handful of proxy addresses: written whole each time.
        foreach (var proxies in snapshot.Proxies.Lists)
        {
            parts.Xml.Start("list").Attr("name", proxies.Name).Attr("default", "deny").Open();
            foreach (var network in CidrAggregator.Aggregate(proxies.Networks))
            {
                WriteNode(parts.Xml, network);
            }

            parts.Xml.End("list");
        }

        foreach (var list in staticLists.Where(l => !lists.Contains(l.Name) && !snapshot.Proxies.Lists.Any(p => p.Name == l.Name)))
        {
            parts.Xml.Start("list").Attr("name", list.Name).Attr("default", list.Default).Open();
            WriteStaticNodes(parts.Xml, list);
            parts.Xml.End("list");
        }

        parts.Xml.End("network-lists").End("configuration").EndDocument();
        return parts.ToParts();
    }

    /// <summary>
    /// The minimal cover of one list: each bucket's own nodes, in address order, except the buckets
    /// inside a larger block (a wide network, or buckets covered whole side by side), which are
    /// written as those blocks. The blocks are merged in the same pass: at a million rules a list can
    /// have tens of thousands of whole buckets (IPv6 /64 customers), and collecting and aggregating
    /// them apart made megabytes of large-object garbage per acl.conf, so per edit.
    /// </summary>
    private static void WriteNetworks(Parts parts, string list, List<string> lists, ArraySegment<AclBucket> buckets, IReadOnlyList<(IpNetwork Network, string? Profile)> wide)
    {
        var blocks = wide.Where(w => w.Profile is null || w.Profile == list).Select(static w => w.Network).ToList();
        blocks.Sort(AddressOrder);
        var run = new BlockRun(parts);
        var next = 0;
        foreach (var bucket in buckets)
        {
            var network = bucket.Key.Network;
            // A wide network starting at or before the bucket is aligned wider than it: it contains the bucket or lies before it.
            for (; next < blocks.Count && AddressOrder(blocks[next], network) <= 0; next++)
            {
                run.Add(blocks[next]);
            }

            var fragment = bucket.FragmentFor(list, lists);
            if (fragment.Full)
            {
                run.Add(network);
            }
            else if (!run.Covers(network))
            {
                run.Write();
                parts.Add(fragment.Xml);
            }
        }

        for (; next < blocks.Count; next++)
        {
            run.Add(blocks[next]);
        }

        run.Write();
    }

    /// <summary>IPv4 first, then by first address: the order of the sorted buckets.</summary>
    private static int AddressOrder(IpNetwork a, IpNetwork b) => a.IsV4 != b.IsV4 ? (a.IsV4 ? -1 : 1) : a.First.CompareTo(b.First);

    /// <summary>Blocks given in address order, merged while they overlap or touch, and written as the fewest CIDRs once the run ends.</summary>
    private sealed class BlockRun(Parts parts)
    {
        private readonly Action<IpNetwork> _write = network => WriteNode(parts.Xml, network);
        private bool _open;
        private bool _isV4;
        private UInt128 _first;
        private UInt128 _last;

        public void Add(IpNetwork block)
        {
            if (_open && block.IsV4 == _isV4 && CidrAggregator.Continues(_last, block.First))
            {
                _last = UInt128.Max(_last, block.Last);
                return;
            }

            Write();
            (_open, _isV4, _first, _last) = (true, block.IsV4, block.First, block.Last);
        }

        public bool Covers(IpNetwork network) => _open && network.IsV4 == _isV4 && _first <= network.First && network.Last <= _last;

        public void Write()
        {
            if (_open)
            {
                _open = false;
                CidrAggregator.EmitRange(_write, _first, _last, _isV4 ? 32 : 128, _isV4);
            }
        }
    }

    private static void WriteStaticNodes(FsXmlWriter xml, StaticAclList list)
    {
        foreach (var node in list.Nodes)
        {
            xml.Start("node").Attr("type", node.Type).Attr("cidr", IpNetwork.Parse(node.Cidr)).Close();
        }
    }

    /// <summary>The document as parts: shared fragments as they are, and what is written here between them.</summary>
    private sealed class Parts
    {
        private const int MaxWrittenPart = 16 * 1024;
        private readonly XmlParts.Builder _parts = new();

        // One scratch buffer, copied out at the exact length of each written part: what is kept is
        // only what the document holds, and no growing buffer reaches the large-object heap (a run of
        // tens of thousands of written IPv6 /64 nodes is megabytes).
        private readonly FsXmlWriter _scratch = new(MaxWrittenPart + 1024);

        public FsXmlWriter Xml
        {
            get
            {
                if (_scratch.WrittenMemory.Length >= MaxWrittenPart)
                {
                    Flush();
                }

                return _scratch;
            }
        }

        public void Add(ReadOnlyMemory<byte> fragment)
        {
            if (fragment.Length == 0)
            {
                return;
            }

            Flush();
            _parts.Add(fragment);
        }

        public XmlParts ToParts()
        {
            Flush();
            return _parts.ToParts();
        }

        private void Flush()
        {
            if (_scratch.WrittenMemory.Length > 0)
            {
                _parts.Add(_scratch.ToArray());
                _scratch.Reset();
            }
        }
    }
}

/// <summary>Refuses to start with a static ACL node FreeSWITCH would misread.</summary>
public sealed class AclOptionsValidator : IValidateOptions<AclOptions>
{
    public ValidateOptionsResult Validate(string? name, AclOptions options)
    {
        var errors = new List<string>();
        foreach (var list in options.Lists)
        {
            if (string.IsNullOrWhiteSpace(list.Name))
            {
                errors.Add("Acl:Lists: every list needs a Name");
            }

            foreach (var node in list.Nodes)
            {
                if (!IpNetwork.TryParse(node.Cidr, out _, out var error))
                {
                    errors.Add($"Acl:Lists:{list.Name}: node '{node.Cidr}': {error}");
                }

                if (node.Type is not ("allow" or "deny"))
                {
                    errors.Add($"Acl:Lists:{list.Name}: node type must be allow or deny");
                }
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
