using System.Xml.Linq;
using FsDirectory.Acl;
using FsDirectory.FreeSwitch;
using FsDirectory.IpAuth;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Acl;

/// <summary>
/// acl.conf with up to 32 networks a node allows exactly the addresses that one node per network
/// allowed, judged by a model of how FreeSWITCH 1.11 reads and checks a list (src/switch_utils.c,
/// src/switch_core.c): IPv4, IPv6 and both, from one network to a hundred thousand, with static deny
/// and allow nodes after them.
/// </summary>
public sealed class PackedAclPropertyTests
{
    public static TheoryData<int, string, int> Lists()
    {
        var data = new TheoryData<int, string, int>();
        foreach (var count in new[] { 1, 2, 31, 32, 33, 64, 65, 97, 1_000, 10_000, 100_000 })
        {
            foreach (var family in new[] { "v4", "v6", "mixed" })
            {
                data.Add(count, family, count * 7 + family.Length);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Lists))]
    public void Packed_acl_conf_allows_exactly_the_addresses_one_node_per_network_allowed(int count, string family, int seed)
    {
        var random = new Random(seed);
        var rules = Enumerable.Range(1, count).Select(id => Rule(id, RandomNetwork(random, family))).ToList();
        var snapshot = new SnapshotBuilder(new FixedOptions<FreeSwitchOptions>(new FreeSwitchOptions()), TimeProvider.System).Build(Data(rules), 1);
        var options = new AclOptions
        {
            Lists =
            [
                // After the profile's own nodes: a deny inside allowed space, an allow, and a deny of a whole family.
                new StaticAclList { Name = "A", Nodes = [Static("deny", "10.77.5.0/24"), Static("allow", "192.0.2.0/28"), Static("deny", "2001:db8:77::/48")] },
            ],
        };
        var text = new AclConfAnswers(new FixedOptions<AclOptions>(options), time: TimeProvider.System).Answer(snapshot).ToString();
        var document = XDocument.Parse(text);
        var packedList = document.Descendants("list").Single(l => l.Attribute("name")!.Value == "A");

        // What the document said before packing: each aggregated network in a node of its own, then the static nodes.
        var unpacked = AclConfAnswers.ProfileNetworks(snapshot)["A"].Select(static n => (true, n.ToString()))
            .Concat(options.Lists[0].Nodes.Select(static n => (n.Type == "allow", IpNetwork.Parse(n.Cidr).ToString())))
            .ToList();
        var packed = FreeSwitchList.Read(packedList);
        var plain = FreeSwitchList.Of(unpacked);

        // The same nodes in the same order: FreeSWITCH builds the same list, so every decision is the same.
        Assert.Equal(plain.Nodes, packed.Nodes);
        Assert.All(packedList.Elements("node"), n => Assert.InRange(n.Attribute("cidr")!.Value.Split(',').Length, 1, AllowNodes.MaxCidrs));
        Assert.All(packedList.Elements("node").Where(n => n.Attribute("cidr")!.Value.Contains(',')), n => Assert.Equal("allow", n.Attribute("type")!.Value));
        Assert.True(packedList.Elements("node").Count() <= AllowNodes.NodesFor(unpacked.Count) * 2 + 3,
            $"{packedList.Elements("node").Count()} elements for {unpacked.Count} networks");

        // And the decisions themselves, at every edge of every network and of the static nodes, and at random.
        var probes = unpacked.SelectMany(static n => Edges(IpNetwork.Parse(n.Item2))).Concat(Enumerable.Range(0, 2_000).Select(_ => RandomAddress(random, family)));
        var allowed = 0;
        var denied = 0;
        foreach (var (address, isV4) in probes)
        {
            var expected = plain.Allows(address, isV4);
            _ = expected ? allowed++ : denied++;
            if (packed.Allows(address, isV4) != expected)
            {
                Assert.Fail($"{new IpAddressKey(address, isV4)}: one node per network {(expected ? "allows" : "denies")} it, the packed list does not");
            }
        }

        // The probes are not all alike: some are let in and some are not.
        Assert.True(allowed > 0 && denied > 0, $"{allowed} allowed, {denied} denied");
    }

    [Fact]
    public void The_model_refuses_a_node_with_more_than_32_networks_as_freeswitch_misreads_it()
    {
        var cidrs = string.Join(',', Enumerable.Range(1, 33).Select(static i => $"10.0.0.{i}/32"));
        var list = XElement.Parse($"<list name=\"x\" default=\"deny\"><node type=\"allow\" cidr=\"{cidrs}\"/></list>");

        var read = FreeSwitchList.Read(list);

        // switch_separate_string stops at 32 pieces: the 32nd holds "10.0.0.32/32,10.0.0.33/32", which is no network.
        Assert.Equal(31, read.Nodes.Count);
        Assert.Equal(1, read.Unreadable);
        Assert.False(read.Allows(IpNetwork.Parse("10.0.0.33/32").First, isV4: true));
    }

    [Fact]
    public void In_the_model_the_most_specific_node_decides_and_a_tie_goes_to_the_node_added_first()
    {
        var list = FreeSwitchList.Of([(true, "10.0.0.0/8"), (false, "10.1.0.0/16"), (true, "10.1.2.0/24"), (false, "10.1.2.0/24"), (true, "2001:db8::/32")]);

        Assert.True(list.Allows(IpNetwork.Parse("10.9.9.9/32").First, isV4: true));
        Assert.False(list.Allows(IpNetwork.Parse("10.1.9.9/32").First, isV4: true));
        Assert.True(list.Allows(IpNetwork.Parse("10.1.2.3/32").First, isV4: true));
        Assert.False(list.Allows(IpNetwork.Parse("11.0.0.1/32").First, isV4: true));
        Assert.False(list.Allows(IpNetwork.Parse("2001:db9::1/128").First, isV4: false));
        Assert.True(list.Allows(IpNetwork.Parse("2001:db8::1/128").First, isV4: false));
    }

    private static StaticAclNode Static(string type, string cidr) => new() { Type = type, Cidr = cidr };

    private static IEnumerable<(UInt128 Address, bool IsV4)> Edges(IpNetwork network)
    {
        var max = IpNetwork.AllOnes(network.Width);
        yield return (network.First, network.IsV4);
        yield return (network.Last, network.IsV4);
        if (network.First > 0)
        {
            yield return (network.First - 1, network.IsV4);
        }

        if (network.Last < max)
        {
            yield return (network.Last + 1, network.IsV4);
        }
    }

    private static IpMapRow Rule(int id, IpNetwork network) => new()
    {
        Id = id, Name = $"r{id}", Ip = network.ToString(), AccountId = 1, SipProfileId = 0, Prefix = string.Empty, Context = "default", Status = 0,
    };

    // Mostly single addresses close together (dense buckets, neighbours that aggregate), some subnets,
    // and a few networks wider than a bucket; IPv6 /64 customers, /128 hosts and /48 sites.
    private static IpNetwork RandomNetwork(Random random, string family)
    {
        var v4 = family == "v4" || (family == "mixed" && random.Next(2) == 0);
        if (v4)
        {
            var length = random.Next(20) switch { 0 => random.Next(8, 16), < 4 => random.Next(20, 32), _ => 32 };
            var address = (UInt128)(0x0A000000u | (uint)random.Next(0, 1 << 20)) | ((UInt128)(uint)random.Next(0, 4) << 28);
            return new IpNetwork(address & ~IpNetwork.AllOnes(32 - length) & IpNetwork.AllOnes(32), length, true);
        }

        var v6Length = random.Next(10) switch { 0 => 48, < 4 => 128, _ => 64 };
        var high = ((UInt128)0x20010db8u << 96) | ((UInt128)(ulong)random.Next(0, 1 << 16) << 64) | (UInt128)(ulong)random.Next(0, 4);
        return new IpNetwork(high & ~IpNetwork.AllOnes(128 - v6Length), v6Length, false);
    }

    private static (UInt128, bool) RandomAddress(Random random, string family)
    {
        var network = RandomNetwork(random, family);
        return (network.First | ((UInt128)(ulong)random.NextInt64() & (network.Last - network.First)), network.IsV4);
    }

    private static SnapshotData Data(List<IpMapRow> rules) => new()
    {
        ChangeToken = "test",
        Accounts = [new AccountRow { Id = 1, Number = "1000", Status = 0 }],
        IpRules = rules,
        Devices = [],
        Profiles = [new SipProfileRow { Id = 1, Name = "A", ProfileData = "{}", Status = 0 }],
        Gateways = [],
        DefaultSipProfileSetting = null,
    };

    /// <summary>
    /// A network list as FreeSWITCH builds and checks it. Reading: each <c>&lt;node&gt;</c> in order, its
    /// <c>cidr</c> split at commas into at most 32 pieces (the last one keeps the rest), each piece a node
    /// with the element's type, added in order; a piece that is no network is left out. Checking: of the
    /// nodes of the address's family that contain it, the one with the most bits decides, a tie going to
    /// the one added first (the list is prepended to and scanned with <c>&gt;=</c>); none: the default (deny here).
    /// </summary>
    private sealed class FreeSwitchList
    {
        private readonly Dictionary<(bool IsV4, int Bits, UInt128 Network), bool> _first = [];

        private FreeSwitchList(List<(bool Allow, IpNetwork Network)> nodes, int unreadable)
        {
            Nodes = nodes;
            Unreadable = unreadable;
            foreach (var (allow, network) in nodes)
            {
                _first.TryAdd((network.IsV4, network.PrefixLength, network.First), allow);
            }
        }

        public List<(bool Allow, IpNetwork Network)> Nodes { get; }

        public int Unreadable { get; }

        public static FreeSwitchList Read(XElement list)
        {
            var nodes = new List<(bool, IpNetwork)>();
            var unreadable = 0;
            foreach (var node in list.Elements("node"))
            {
                var allow = node.Attribute("type")!.Value == "allow";
                foreach (var piece in Split(node.Attribute("cidr")!.Value))
                {
                    // FreeSWITCH's parser needs "/": IpNetwork would take a bare address, so check it too.
                    if (piece.Contains('/') && IpNetwork.TryParse(piece, out var network, out _))
                    {
                        nodes.Add((allow, network.Value));
                    }
                    else
                    {
                        unreadable++;
                    }
                }
            }

            return new FreeSwitchList(nodes, unreadable);
        }

        public static FreeSwitchList Of(IEnumerable<(bool Allow, string Cidr)> nodes) =>
            new([.. nodes.Select(static n => (n.Allow, IpNetwork.Parse(n.Cidr)))], 0);

        public bool Allows(UInt128 address, bool isV4)
        {
            var width = isV4 ? 32 : 128;
            for (var bits = width; bits >= 0; bits--)
            {
                var network = address & ~IpNetwork.AllOnes(width - bits) & IpNetwork.AllOnes(width);
                if (_first.TryGetValue((isV4, bits, network), out var allow))
                {
                    return allow;
                }
            }

            return false;
        }

        private static List<string> Split(string cidr)
        {
            var pieces = new List<string>();
            var rest = cidr;
            while (pieces.Count < AllowNodes.MaxCidrs - 1 && rest.IndexOf(',') is var comma and >= 0)
            {
                pieces.Add(rest[..comma]);
                rest = rest[(comma + 1)..];
            }

            pieces.Add(rest);
            return pieces;
        }
    }
}
