using System.Xml.Linq;
using FsDirectory.Acl;
using FsDirectory.ChangeFeed;
using FsDirectory.FreeSwitch;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Acl;

/// <summary>
/// acl.conf put together from address buckets, built whole and then edited row by row, against the
/// plain aggregation of every rule: networks wider than a bucket, buckets covered whole that merge
/// with their neighbours, rules bound to one profile or to all, IPv4 and IPv6.
/// </summary>
public sealed class AclInputsPropertyTests
{
    // Around two IPv4 /16 buckets and two IPv6 /64 buckets, with blocks that cover them whole or contain them.
    private static readonly string[] Networks =
    [
        "10.20.0.0/16", "10.21.0.0/17", "10.21.128.0/17", "10.20.5.0/24", "10.20.5.7/32", "10.21.3.0/25", "10.20.255.255/32",
        "10.22.0.0/15", "10.16.0.0/12", "10.0.0.0/8", "10.23.0.0/16", "10.24.0.0/16", "11.0.0.1/32", "9.255.255.255/32", "0.0.0.0/0",
        "2001:db8:1:2::/64", "2001:db8:1:2::/65", "2001:db8:1:2:8000::/65", "2001:db8:1:3::5/128", "2001:db8:1::/48",
        "2001:db8::/32", "2001:db8:1:2::1/128", "2001:db8:1:3::/64", "ffff:ffff:ffff:ffff::/64",
    ];

    private static readonly int[] Profiles = [0, 0, 1, 2];

    public static TheoryData<int> Seeds => new() { 1, 2, 3, 4, 5 };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Acl_conf_from_edited_buckets_lists_exactly_the_aggregated_networks_of_every_profile(int seed)
    {
        var random = new Random(seed);
        var builder = new SnapshotBuilder(new FixedOptions<FreeSwitchOptions>(new FreeSwitchOptions()), TimeProvider.System);
        var patcher = new SnapshotPatcher(TimeProvider.System);
        var acl = new AclConfAnswers(new FixedOptions<AclOptions>(new AclOptions()));
        var rows = Enumerable.Range(1, random.Next(0, 12)).ToDictionary(id => id, id => Row(random, id));
        var snapshot = builder.Build(Data(rows.Values), 1);
        AssertSameAsAggregation(acl, snapshot, $"seed {seed}, built whole");

        var nextId = 100;
        var history = new List<Snapshot> { snapshot };
        for (var step = 0; step < 40; step++)
        {
            var changed = new Dictionary<int, IpMapRow?>();
            for (var change = random.Next(1, 5); change > 0; change--)
            {
                var pick = rows.Count == 0 ? 0 : rows.Keys.ElementAt(random.Next(rows.Count));
                switch (random.Next(3))
                {
                    case 0 when pick != 0:
                        rows.Remove(pick);
                        changed[pick] = null;
                        break;
                    case 1 when pick != 0:
                        changed[pick] = rows[pick] = Row(random, pick);
                        break;
                    default:
                        var id = nextId++;
                        changed[id] = rows[id] = Row(random, id);
                        break;
                }
            }

            snapshot = patcher.Apply(snapshot, new RowChanges(snapshot.Accounts, snapshot.ProfileState, changed, new Dictionary<int, SipDeviceRow?>(), new HashSet<string>()),
                FeedPosition.Start, step + 2).Snapshot!;
            history.Add(snapshot);
            AssertSameAsAggregation(acl, snapshot, $"seed {seed}, step {step}");
            Assert.True(snapshot.AclInputs.SameAs(AclInputs.Build(snapshot.UsableRules)), $"seed {seed}, step {step}: the edited buckets differ from buckets built whole");
        }

        // Earlier snapshots still serve their own acl.conf: edits never change a shared bucket.
        foreach (var earlier in history.Take(5))
        {
            AssertSameAsAggregation(new AclConfAnswers(new FixedOptions<AclOptions>(new AclOptions())), earlier.Copy(earlier.FeedPosition, keepAnswers: false), $"seed {seed}, earlier snapshot {earlier.Version}");
        }
    }

    private static void AssertSameAsAggregation(AclConfAnswers acl, Snapshot snapshot, string when)
    {
        var document = XDocument.Parse(acl.Answer(snapshot).ToString());
        var served = document.Descendants("list").ToDictionary(l => l.Attribute("name")!.Value, l => l.Elements("node").SelectMany(n => n.Attribute("cidr")!.Value.Split(',')).ToList());
        var expected = AclConfAnswers.ProfileNetworks(snapshot);
        Assert.Equal(expected.Keys.Order(), served.Keys.Order());
        foreach (var (list, networks) in expected)
        {
            Assert.True(networks.Select(n => n.ToString()).SequenceEqual(served[list]),
                $"{when}, list {list}: expected [{string.Join(", ", networks)}], served [{string.Join(", ", served[list])}]");
        }
    }

    private static IpMapRow Row(Random random, int id) => new()
    {
        Id = id,
        Name = $"r{id}",
        Ip = Networks[random.Next(Networks.Length)],
        AccountId = 1,
        SipProfileId = Profiles[random.Next(Profiles.Length)],
        Prefix = random.Next(3) == 0 ? "9" : string.Empty,
        Context = "default",
        Status = random.Next(8) == 0 ? 1 : 0,
    };

    private static SnapshotData Data(IEnumerable<IpMapRow> rules) => new()
    {
        ChangeToken = "test",
        Accounts = [new AccountRow { Id = 1, Number = "1000", Status = 0 }],
        IpRules = rules.OrderBy(r => r.Id).ToList(),
        Devices = [],
        Profiles =
        [
            new SipProfileRow { Id = 1, Name = "A", ProfileData = "{}", Status = 0 },
            new SipProfileRow { Id = 2, Name = "B", ProfileData = "{}", Status = 0 },
        ],
        Gateways = [],
        DefaultSipProfileSetting = null,
    };
}
