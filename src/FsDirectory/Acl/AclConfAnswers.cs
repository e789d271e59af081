using FsDirectory.IpAuth;
using FsDirectory.Snapshots;
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
/// (<see cref="PackedNodes"/>), so after an edit at a million rules the ~13 MB document is put
/// together from shared parts, not aggregated again, and it is served by writing those parts out
/// rather than joining them into one buffer. Allowed networks go up to 32 to a node (<see cref="AllowNodes"/>):
/// 700,009 elements become 26,511 at a million Mixed rules.
/// </summary>
public sealed partial class AclConfAnswers : ISnapshotWarmer
{
    /// <summary>How often a problem that lasts is logged again (it is logged at once whenever it changes).</summary>
    private static readonly TimeSpan RepeatLogAfter = TimeSpan.FromMinutes(1);

    private readonly IOptionsMonitor<AclOptions> _options;
    private readonly ILogger<AclConfAnswers> _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();

    // The newest document within ResponseMaxBytes, and the guard of the newest snapshot answered.
    private (AclConfDocument Document, long Version)? _lastGood;
    private AclConfGuard? _guard;
    private long _loggedAt;
    private string? _loggedState;

    public AclConfAnswers(IOptionsMonitor<AclOptions> options, ILogger<AclConfAnswers>? logger = null, TimeProvider? time = null, Metrics.FsDirectoryMetrics? metrics = null)
    {
        _options = options;
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<AclConfAnswers>.Instance;
        _time = time ?? TimeProvider.System;
        if (metrics is not null)
        {
            metrics.AddGauge("fsdir_acl_conf_bytes", "Bytes of the acl.conf built from the current snapshot (0 before the first).", () => Guard?.Bytes ?? 0);
            metrics.AddGauge("fsdir_acl_conf_nodes", "<node> elements of the acl.conf built from the current snapshot (0 before the first).", () => Guard?.Nodes ?? 0);
            metrics.AddGauge("fsdir_acl_conf_over_size",
                "1 while the acl.conf built from the current snapshot is larger than Acl:ResponseMaxBytes (the switches' response-max-bytes): the last one within it is served instead, or 503 when there is none.",
                () => Guard?.OverSize == true ? 1 : 0);
            metrics.AddGauge("fsdir_acl_conf_over_nodes",
                "1 while the acl.conf built from the current snapshot has more <node> elements than Acl:MaxNodes: served, but every reloadacl stalls the switch's calls while it parses.",
                () => Guard?.OverNodes == true ? 1 : 0);
        }
    }

    /// <summary>What the newest snapshot's acl.conf weighs against the limits, and what is served for it; null before the first.</summary>
    public AclConfGuard? Guard => Volatile.Read(ref _guard);

    /// <summary>
    /// acl.conf for <paramref name="snapshot"/>. Over <see cref="AclOptions.ResponseMaxBytes"/> the switch
    /// would drop the document and silently fall back to its static acl.conf, so serving it is pointless.
    /// Instead the newest document that fit is served: the switch keeps the lists it already has, so no
    /// customer who could call loses service; a rule removed since stays in the switch's ACL, but the ACL
    /// only spares a digest challenge, and the dialplan answer (always from the live snapshot) refuses a
    /// source without a usable rule with 403; customers added since are challenged until the document
    /// fits again. With no such document since start, the answer is 503: mod_xml_curl then asks the
    /// next binding (another instance may have one) and only then falls back to its static file.
    /// Either way it is loud: the status, the metrics and a log line at once and every minute while it lasts.
    /// </summary>
    public XmlAnswer Answer(Snapshot snapshot)
    {
        var built = snapshot.Answer("acl.conf", Build);
        var options = _options.CurrentValue;
        if (built.Parts.Length <= options.ResponseMaxBytes)
        {
            Report(snapshot.Version, built, options, AclConfGuard.ServingBuilt, snapshot.Version);
            return new XmlAnswer(built.Parts, "answered");
        }

        var good = LastGood(snapshot.Version, null, options);
        Report(snapshot.Version, built, options, good is null ? AclConfGuard.ServingRefused : AclConfGuard.ServingLastGood, good?.Version);
        return good is { } last ? new XmlAnswer(last.Document.Parts, "answered") : XmlAnswer.Unavailable;
    }

    public void Warm(Snapshot snapshot) => Answer(snapshot);

    /// <summary>Remembers a document that fits (only a newer one replaces it); gives the one to serve when <paramref name="fits"/> is null.</summary>
    private (AclConfDocument Document, long Version)? LastGood(long version, AclConfDocument? fits, AclOptions options)
    {
        lock (_gate)
        {
            if (fits is not null && (_lastGood is not { } kept || kept.Version <= version))
            {
                _lastGood = (fits, version);
            }

            return _lastGood is { } good && good.Document.Parts.Length <= options.ResponseMaxBytes ? good : null;
        }
    }

    private void Report(long version, AclConfDocument built, AclOptions options, string serving, long? servedVersion)
    {
        if (serving == AclConfGuard.ServingBuilt)
        {
            LastGood(version, built, options);
        }

        var guard = new AclConfGuard(version, built.Parts.Length, built.Nodes, options.ResponseMaxBytes, options.MaxNodes, serving, servedVersion);
        bool log;
        lock (_gate)
        {
            // A fetch for an older snapshot (still in flight) does not overwrite the newest one's state.
            if (_guard is { } newer && newer.SnapshotVersion > version)
            {
                return;
            }

            _guard = guard;
            var state = guard.OverSize || guard.OverNodes ? $"{guard.OverSize}/{guard.OverNodes}/{serving}" : null;
            var now = _time.GetTimestamp();
            log = state is not null && (state != _loggedState || _time.GetElapsedTime(_loggedAt, now) >= RepeatLogAfter);
            if (log || state is null)
            {
                (_loggedState, _loggedAt) = (state, now);
            }
        }

        if (!log)
        {
            return;
        }

        if (guard.OverSize)
        {
            LogOverSize(guard.Bytes, guard.MaxBytes, guard.Nodes, version,
                serving == AclConfGuard.ServingLastGood ? $"serving the acl.conf of snapshot {servedVersion} instead" : "answering 503 (no acl.conf within the limit since start)");
        }
        else
        {
            LogOverNodes(guard.Nodes, guard.MaxNodes, guard.Bytes, version);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "acl.conf of snapshot {Version} is {Bytes} bytes ({Nodes} nodes), over Acl:ResponseMaxBytes {MaxBytes}: a switch would refuse it and silently use its static acl.conf; {Serving}. Move IP-authenticated profiles to fsdir_ip_auth_mode 'dialplan', or raise the switches' response-max-bytes and Acl:ResponseMaxBytes together")]
    private partial void LogOverSize(long bytes, long maxBytes, int nodes, long version, string serving);

    [LoggerMessage(Level = LogLevel.Warning, Message = "acl.conf of snapshot {Version} has {Nodes} nodes ({Bytes} bytes), over Acl:MaxNodes {MaxNodes}: every reloadacl holds the switch's ACL lock (and its calls) for seconds while it parses. Move IP-authenticated profiles to fsdir_ip_auth_mode 'dialplan'")]
    private partial void LogOverNodes(int nodes, int maxNodes, long bytes, long version);

    /// <summary>The allowed networks per list name, aggregated from the rules directly: what tests and the admin API compare against.</summary>
    public static Dictionary<string, List<IpNetwork>> ProfileNetworks(Snapshot snapshot) =>
        snapshot.Profiles.Where(static p => p.ServesCustomerAcl).ToDictionary(
            p => p.Name,
            p => CidrAggregator.Aggregate(snapshot.UsableRules.Where(r => r.AppliesToProfile(p.Name)).Select(r => r.Network)),
            StringComparer.Ordinal);

    private AclConfDocument Build(Snapshot snapshot)
    {
        var staticLists = _options.CurrentValue.Lists;
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

    private static AclConfDocument Build(Snapshot snapshot, IReadOnlyList<StaticAclList> staticLists, List<string> lists, ArraySegment<AclBucket> buckets)
    {
        var parts = new Parts();
        parts.Xml.StartDocument("configuration");
        parts.Xml.Start("configuration").Attr("name", "acl.conf").Attr("description", "Network Lists (FsDirectory)").Open();
        parts.Xml.Start("network-lists").Open();
        foreach (var list in lists)
        {
            parts.Xml.Start("list").Attr("name", list).Attr("default", "deny").Open();
            WriteNetworks(parts, list, lists, buckets, snapshot.AclInputs.Wide);
            parts.EndNodes();
            foreach (var staticList in staticLists.Where(l => l.Name == list))
            {
                WriteStaticNodes(parts, staticList);
            }

            parts.Xml.End("list");
        }

        // A handful of proxy addresses: written whole each time.
        foreach (var proxies in snapshot.Proxies.Lists)
        {
            parts.Xml.Start("list").Attr("name", proxies.Name).Attr("default", "deny").Open();
            foreach (var network in CidrAggregator.Aggregate(proxies.Networks))
            {
                parts.Node(network);
            }

            parts.EndNodes();

            parts.Xml.End("list");
        }

        foreach (var list in staticLists.Where(l => !lists.Contains(l.Name) && !snapshot.Proxies.Lists.Any(p => p.Name == l.Name)))
        {
            parts.Xml.Start("list").Attr("name", list.Name).Attr("default", list.Default).Open();
            WriteStaticNodes(parts, list);
            parts.Xml.End("list");
        }

        parts.Xml.End("network-lists").End("configuration").EndDocument();
        return new AclConfDocument(parts.ToParts(), parts.Nodes);
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
                parts.Add(fragment.Nodes);
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
        private readonly Action<IpNetwork> _write = parts.Node;
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

    private static void WriteStaticNodes(Parts parts, StaticAclList list)
    {
        foreach (var node in list.Nodes)
        {
            parts.Xml.Start("node").Attr("type", node.Type).Attr("cidr", IpNetwork.Parse(node.Cidr)).Close();
            parts.Nodes++;
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

        // What goes between a written part and a bucket's networks, shared by every document: a bucket
        // that continues the open node costs one more part, not one more buffer.
        private static readonly ReadOnlyMemory<byte> OpenPart = AllowNodes.Open.ToArray();
        private static readonly ReadOnlyMemory<byte> SeparatorPart = AllowNodes.Separator.ToArray();
        private static readonly ReadOnlyMemory<byte> NextPart = AllowNodes.Next.ToArray();

        // The networks in the allow node left open (0: none is open).
        private int _open;

        /// <summary>The <c>&lt;node&gt;</c> elements written so far.</summary>
        public int Nodes { get; set; }

        /// <summary>One allowed network, packed with those before it while the node has room (<see cref="AllowNodes"/>).</summary>
        public void Node(IpNetwork network)
        {
            var xml = Xml;
            if (_open is 0 or AllowNodes.MaxCidrs)
            {
                xml.Fragment(_open == 0 ? AllowNodes.Open : AllowNodes.Next);
                (_open, Nodes) = (0, Nodes + 1);
            }
            else
            {
                xml.Fragment(AllowNodes.Separator);
            }

            xml.Text(network);
            _open++;
        }

        /// <summary>
        /// A bucket's allowed networks: in the open node when all of them fit there, otherwise from a
        /// node of their own. Greedy per bucket, so that a bucket's text never depends on its
        /// neighbours (it is shared between snapshots): a node holds fewer than 32 only where a bucket did not fit.
        /// </summary>
        public void Add(PackedNodes? fragment)
        {
            if (fragment is null)
            {
                return;
            }

            var count = fragment.Count;
            if (_open > 0 && _open + count <= AllowNodes.MaxCidrs)
            {
                Between(SeparatorPart);
                _open += count;
            }
            else
            {
                Between(_open == 0 ? OpenPart : NextPart);
                Nodes += AllowNodes.NodesFor(count);
                _open = ((count - 1) % AllowNodes.MaxCidrs) + 1;
            }

            _parts.Add(fragment.Part);
        }

        /// <summary>Ends the allow node left open: before any other element.</summary>
        public void EndNodes()
        {
            if (_open > 0)
            {
                Xml.Fragment(AllowNodes.Close);
                _open = 0;
            }
        }

        /// <summary>Into the written part when there is one (it is copied out anyway), otherwise as a shared part.</summary>
        private void Between(ReadOnlyMemory<byte> text)
        {
            if (_scratch.WrittenMemory.Length > 0)
            {
                _scratch.Fragment(text.Span);
                Flush();
            }
            else
            {
                _parts.Add(text);
            }
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
        if (options.ResponseMaxBytes < 1024)
        {
            errors.Add("Acl:ResponseMaxBytes must be at least 1024 (mod_xml_curl's response-max-bytes)");
        }

        if (options.MaxNodes < 1)
        {
            errors.Add("Acl:MaxNodes must be at least 1");
        }

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
