using System.Globalization;
using FsDirectory.Acl;
using FsDirectory.FreeSwitch;
using FsDirectory.IpAuth;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.IpAuth;

/// <summary>
/// The indexed matcher, the CIDR aggregator and the snapshot filter against deliberately naive
/// reference implementations on random data. Every case has a fixed seed, reported on failure, so a
/// counterexample can be replayed.
/// </summary>
public sealed class MatcherPropertyTests
{
    private const int RuleSetsPerCase = 250;
    private const int CallsPerRuleSet = 120;

    // Competing prefixes share characters and lengths, and use every character that a LIKE or a
    // pattern engine would treat specially.
    private static readonly string[] PrefixPool =
        ["", "", "", "1", "12", "123", "12345678*", "1234", "*", "*1", "#", "#9", "+", "+1", "%", "%1", "_", "1_", "9", "99"];

    private static readonly string?[] ProfilePool = [null, null, "A", "B"];

    // ---------------------------------------------------------------- the reference

    /// <summary>The specification read literally: a scan over every rule, sorted by precedence.</summary>
    private static List<IpRule> ReferenceCandidates(IEnumerable<IpRule> rules, IpAddressKey source, string number, string? profile) =>
        rules
            .Where(r => ReferenceContains(r.Network, source))
            .Where(r => r.Profile is null || r.Profile == profile)
            .Where(r => r.Prefix.Length <= number.Length && string.CompareOrdinal(number, 0, r.Prefix, 0, r.Prefix.Length) == 0)
            .OrderByDescending(r => r.Prefix.Length)
            .ThenByDescending(r => r.Network.PrefixLength)
            .ThenBy(r => r.Id)
            .ToList();

    /// <summary>Containment bit by bit, not through the production mask arithmetic.</summary>
    private static bool ReferenceContains(IpNetwork network, IpAddressKey source)
    {
        if (network.IsV4 != source.IsV4)
        {
            return false;
        }

        var width = network.IsV4 ? 32 : 128;
        for (var bit = 0; bit < network.PrefixLength; bit++)
        {
            var shift = width - 1 - bit;
            if (((network.Bits >> shift) & UInt128.One) != ((source.Bits >> shift) & UInt128.One))
            {
                return false;
            }
        }

        return true;
    }

    // ---------------------------------------------------------------- matcher

    public static TheoryData<int> Cases => new() { 1, 2, 3, 4 };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matcher_picks_the_same_rule_as_a_linear_scan_on_random_ipv4_and_ipv6_rule_sets(int caseSeed)
    {
        var checkedCalls = 0;
        var hits = 0;
        for (var set = 0; set < RuleSetsPerCase; set++)
        {
            var seed = (caseSeed * 100_000) + set;
            var random = new Random(seed);
            hits += AssertMatchesLinearScan(RandomRules(random, random.Next(1, 60)), random, seed);
            checkedCalls += CallsPerRuleSet;
        }

        // The generator must exercise both outcomes, or the comparison above proves little.
        Assert.Equal(RuleSetsPerCase * CallsPerRuleSet, checkedCalls);
        Assert.InRange(hits, checkedCalls / 5, checkedCalls - (checkedCalls / 20));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matcher_agrees_with_a_linear_scan_when_many_rules_share_a_few_networks(int caseSeed)
    {
        var crowded = 0;
        for (var set = 0; set < RuleSetsPerCase / 5; set++)
        {
            var seed = (caseSeed * 100_000) + 30_000 + set;
            var random = new Random(seed);
            // Few distinct networks, so that some carry more rules than the index scans linearly.
            var rules = RandomRules(random, random.Next(20, 80), crowded: true);
            crowded += rules.GroupBy(r => r.Network).Count(g => g.Count() > 8);
            AssertMatchesLinearScan(rules, random, seed);
        }

        Assert.True(crowded > 10, "the generator never put many rules on one network");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void An_index_edited_rule_by_rule_answers_like_a_linear_scan_and_the_index_it_came_from_is_unchanged(int caseSeed)
    {
        var edits = 0;
        for (var set = 0; set < RuleSetsPerCase / 5; set++)
        {
            var seed = (caseSeed * 100_000) + 70_000 + set;
            var random = new Random(seed);
            var live = RandomRules(random, random.Next(1, 60), crowded: set % 2 == 0);
            var index = new IpRuleIndex(live);
            var nextId = live.Max(r => r.Id) + 1;
            for (var batch = 0; batch < 6; batch++)
            {
                var before = live.ToList();
                var beforeIndex = index;
                var editor = index.Edit();
                for (var change = random.Next(1, 12); change > 0; change--, edits++)
                {
                    var pick = random.Next(live.Count);
                    switch (random.Next(3))
                    {
                        case 0 when live.Count > 1:
                            editor.Remove(live[pick]);
                            live.RemoveAt(pick);
                            break;
                        case 1:
                            // A rule keeping its id but moving to another network, prefix or profile.
                            var moved = live[pick] with
                            {
                                Network = random.Next(2) == 0 ? RandomNetwork(random) : live[random.Next(live.Count)].Network,
                                Prefix = PrefixPool[random.Next(PrefixPool.Length)],
                                Terms = live[pick].Terms with { Profile = ProfilePool[random.Next(ProfilePool.Length)] },
                            };
                            editor.Remove(live[pick]);
                            editor.Add(moved);
                            live[pick] = moved;
                            break;
                        default:
                            var added = NewRule(nextId++, random.Next(2) == 0 ? RandomNetwork(random) : live[pick].Network,
                                PrefixPool[random.Next(PrefixPool.Length)], ProfilePool[random.Next(ProfilePool.Length)]);
                            editor.Add(added);
                            live.Add(added);
                            break;
                    }
                }

                index = editor.ToIndex();
                Assert.Equal(live.Count, index.Count);
                AssertMatchesLinearScan(index, live, random, seed);
                AssertMatchesLinearScan(beforeIndex, before, random, seed);
            }
        }

        Assert.True(edits > 1000);
    }

    [Fact]
    public void Edits_on_a_large_sharded_index_give_the_same_answers_and_slots_as_an_index_built_afresh()
    {
        var random = new Random(2026);
        var live = Enumerable.Range(1, 20_000)
            .Select(id => NewRule(id, id % 10 == 0 ? RandomNetworkIn(random, V6Space, 100, 128, biasToHosts: true) : new IpNetwork((uint)random.Next(), 32, true),
                PrefixPool[random.Next(PrefixPool.Length)], ProfilePool[random.Next(ProfilePool.Length)]))
            .ToList();
        var index = new IpRuleIndex(live);
        var nextId = 20_001;
        for (var batch = 0; batch < 5; batch++)
        {
            var editor = index.Edit();
            for (var change = 0; change < 200; change++)
            {
                var pick = random.Next(live.Count);
                editor.Remove(live[pick]);
                if (random.Next(2) == 0)
                {
                    live.RemoveAt(pick);
                }
                else
                {
                    live[pick] = live[pick] with { Id = nextId++, Network = new IpNetwork((uint)random.Next(), 32, true) };
                    editor.Add(live[pick]);
                }
            }

            index = editor.ToIndex();
        }

        var fresh = new IpRuleIndex(live);
        Assert.Equal(fresh.Count, index.Count);
        Assert.Equal(fresh.Slots().Select(s => $"{s.Slot}:{s.Rule.Id}").Order(StringComparer.Ordinal), index.Slots().Select(s => $"{s.Slot}:{s.Rule.Id}").Order(StringComparer.Ordinal));
        for (var call = 0; call < 5_000; call++)
        {
            var rule = live[random.Next(live.Count)];
            var source = call % 3 == 0 ? RandomHostIn(random, rule.Network) : new IpAddressKey((uint)random.Next(), true);
            var number = (call % 2 == 0 ? rule.Prefix : string.Empty) + RandomNumber(random);
            var profile = ProfilePool[random.Next(ProfilePool.Length)];
            Assert.Same(fresh.Match(source, number, profile), index.Match(source, number, profile));
        }
    }

    /// <summary>Random calls against an index of <paramref name="rules"/>; returns how many matched a rule.</summary>
    private static int AssertMatchesLinearScan(List<IpRule> rules, Random random, int seed) =>
        AssertMatchesLinearScan(new IpRuleIndex(rules), rules, random, seed);

    private static int AssertMatchesLinearScan(IpRuleIndex index, List<IpRule> rules, Random random, int seed)
    {
        var hits = 0;
        for (var call = 0; call < CallsPerRuleSet; call++)
        {
            var (source, sourceText) = RandomSource(random, rules);
            var number = RandomNumber(random);
            var profile = ProfilePool[random.Next(ProfilePool.Length)];

            var expected = ReferenceCandidates(rules, source, number, profile).FirstOrDefault();
            var actual = index.Match(source, number, profile);

            Assert.True(ReferenceEquals(expected, actual),
                $"seed {seed}, call {call}: source {sourceText}, number '{number}', profile {profile ?? "(none)"}: "
                + $"expected rule {Describe(expected)}, matcher chose {Describe(actual)}");
            hits += expected is null ? 0 : 1;
        }

        return hits;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Candidates_are_every_matching_rule_in_precedence_order(int caseSeed)
    {
        var sawSeveral = false;
        for (var set = 0; set < RuleSetsPerCase / 5; set++)
        {
            var seed = (caseSeed * 100_000) + 50_000 + set;
            var random = new Random(seed);
            var rules = RandomRules(random, random.Next(1, 60));
            var index = new IpRuleIndex(rules);
            for (var call = 0; call < CallsPerRuleSet; call++)
            {
                var (source, sourceText) = RandomSource(random, rules);
                var number = RandomNumber(random);
                var profile = ProfilePool[random.Next(ProfilePool.Length)];

                var expected = ReferenceCandidates(rules, source, number, profile).Select(r => r.Id).ToArray();
                var actual = index.Candidates(source, number, profile).Select(r => r.Id).ToArray();

                Assert.True(expected.SequenceEqual(actual),
                    $"seed {seed}, call {call}: source {sourceText}, number '{number}', profile {profile ?? "(none)"}: "
                    + $"expected [{string.Join(", ", expected)}], got [{string.Join(", ", actual)}]");
                sawSeveral |= expected.Length > 2;
            }
        }

        Assert.True(sawSeveral, "the generator never produced competing candidates");
    }

    [Fact]
    public void Ipv4_mapped_ipv6_source_matches_the_same_rule_as_the_plain_ipv4_source()
    {
        var random = new Random(7);
        var rules = RandomRules(random, 40);
        var index = new IpRuleIndex(rules);
        var compared = 0;
        foreach (var rule in rules.Where(r => r.Network.IsV4))
        {
            var host = RandomHostIn(random, rule.Network);
            var v4 = (uint)host.Bits;
            var mappedText = string.Create(CultureInfo.InvariantCulture, $"::ffff:{v4 >> 24}.{(v4 >> 16) & 255}.{(v4 >> 8) & 255}.{v4 & 255}");
            Assert.True(IpAddressKey.TryParse(mappedText, out var mapped), mappedText);

            var number = rule.Prefix + "2066418000";
            var expected = ReferenceCandidates(rules, host, number, rule.Profile).First();
            Assert.Same(expected, index.Match(mapped, number, rule.Profile));
            compared++;
        }

        Assert.True(compared > 5);
    }

    // ---------------------------------------------------------------- aggregation

    public static TheoryData<int, string> AggregationCases => new()
    {
        // A /24 and a /120 are small enough to enumerate every address and every aligned block.
        { 1, "198.51.100.0/24" }, { 2, "198.51.100.0/24" }, { 3, "198.51.100.0/24" }, { 4, "198.51.100.0/24" },
        { 1, "2001:db8:0:42::ff00/120" }, { 2, "2001:db8:0:42::ff00/120" }, { 3, "2001:db8:0:42::ff00/120" }, { 4, "2001:db8:0:42::ff00/120" },
    };

    [Theory]
    [MemberData(nameof(AggregationCases))]
    public void Aggregated_networks_cover_exactly_the_same_addresses_with_the_fewest_cidrs(int caseSeed, string spaceText)
    {
        var space = IpNetwork.Parse(spaceText);
        for (var set = 0; set < 300; set++)
        {
            var seed = (caseSeed * 100_000) + set;
            var random = new Random(seed);
            var networks = Enumerable.Range(0, random.Next(0, 25))
                .Select(_ => RandomNetworkIn(random, space, minLength: space.PrefixLength, maxLength: space.Width, biasToHosts: random.Next(3) == 0))
                .ToList();

            AssertMinimalCover(space, networks, CidrAggregator.Aggregate(networks), $"seed {seed}");
        }
    }

    [Fact]
    public void Aggregation_keeps_the_families_apart_and_handles_the_ends_of_the_address_space()
    {
        var networks = EndsOfTheSpace.Select(IpNetwork.Parse).ToList();

        var result = CidrAggregator.Aggregate(networks).Select(n => n.ToString()).ToArray();

        // IPv4 first; an IPv4 network never merges with the IPv6 network of the same bits.
        Assert.Equal(ExpectedEnds, result);
        Assert.Equal(["0.0.0.0/0"], CidrAggregator.Aggregate([IpNetwork.Parse("0.0.0.0/1"), IpNetwork.Parse("128.0.0.0/1"), IpNetwork.Parse("10.0.0.0/8")]).Select(n => n.ToString()));
        Assert.Equal(["::/0"], CidrAggregator.Aggregate([IpNetwork.Parse("::/1"), IpNetwork.Parse("8000::/1")]).Select(n => n.ToString()));
    }

    private static readonly string[] EndsOfTheSpace =
    [
        "255.255.255.254/32", "255.255.255.255/32", "0.0.0.0/32", "0.0.0.1/32",
        "::fffe/128", "::ffff/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
        "::/128", "::1/128",
    ];

    private static readonly string[] ExpectedEnds =
        ["0.0.0.0/31", "255.255.255.254/31", "::/127", "::fffe/127", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"];

    private static void AssertMinimalCover(IpNetwork space, List<IpNetwork> input, List<IpNetwork> result, string label)
    {
        var size = 1 << (space.Width - space.PrefixLength);
        var covered = new bool[size];
        foreach (var network in input)
        {
            Mark(covered, space, network);
        }

        var resultCovered = new bool[size];
        foreach (var network in result)
        {
            Assert.True(space.Contains(network), $"{label}: {network} lies outside the input space");
            for (var i = 0; i < size; i++)
            {
                if (ReferenceContains(network, new IpAddressKey(space.Bits + (UInt128)i, space.IsV4)))
                {
                    Assert.False(resultCovered[i], $"{label}: {network} overlaps another result network");
                    resultCovered[i] = true;
                }
            }
        }

        Assert.True(covered.SequenceEqual(resultCovered), $"{label}: the result [{string.Join(", ", result)}] does not cover the input [{string.Join(", ", input)}]");

        // The fewest CIDRs are exactly the maximal aligned blocks inside the covered set: every
        // block whose parent block is not entirely covered.
        var expected = new List<IpNetwork>();
        for (var length = space.PrefixLength; length <= space.Width; length++)
        {
            var blockSize = 1 << (space.Width - length);
            for (var start = 0; start < size; start += blockSize)
            {
                if (!AllCovered(covered, start, blockSize))
                {
                    continue;
                }

                var parentCovered = length > space.PrefixLength
                    && AllCovered(covered, start & ~((blockSize * 2) - 1), blockSize * 2);
                if (!parentCovered)
                {
                    expected.Add(new IpNetwork(space.Bits + (UInt128)start, length, space.IsV4));
                }
            }
        }

        Assert.Equal(expected.OrderBy(n => n.Bits).Select(n => n.ToString()), result.Select(n => n.ToString()));
    }

    private static bool AllCovered(bool[] covered, int start, int count)
    {
        for (var i = start; i < start + count; i++)
        {
            if (!covered[i])
            {
                return false;
            }
        }

        return true;
    }

    private static void Mark(bool[] covered, IpNetwork space, IpNetwork network)
    {
        for (var i = 0; i < covered.Length; i++)
        {
            covered[i] |= ReferenceContains(network, new IpAddressKey(space.Bits + (UInt128)i, space.IsV4));
        }
    }

    // ---------------------------------------------------------------- through the snapshot builder

    [Theory]
    [MemberData(nameof(Cases))]
    public void Snapshot_serves_exactly_the_usable_rules_and_matches_like_the_reference(int caseSeed)
    {
        var builder = new SnapshotBuilder(new FixedOptions<FreeSwitchOptions>(new FreeSwitchOptions()), TimeProvider.System);
        var sawUnusable = 0;
        var sawUsable = 0;
        for (var set = 0; set < 60; set++)
        {
            var seed = (caseSeed * 100_000) + 70_000 + set;
            var random = new Random(seed);
            var (data, expectedRules) = RandomSnapshotData(random);

            var snapshot = builder.Build(data, version: set);

            Assert.True(
                expectedRules.Select(r => r.Id).Order().SequenceEqual(snapshot.UsableRules.Select(r => r.Id).Order()),
                $"seed {seed}: expected usable [{string.Join(", ", expectedRules.Select(r => r.Id).Order())}], "
                + $"snapshot has [{string.Join(", ", snapshot.UsableRules.Select(r => r.Id).Order())}]");
            foreach (var served in snapshot.UsableRules)
            {
                var expected = expectedRules.Single(r => r.Id == served.Id);
                Assert.Equal(expected.Network, served.Network);
                Assert.Equal(expected.Profile, served.Profile);
                Assert.Equal(expected.Prefix, served.Prefix);
            }

            // Rows with an unparseable address are reported, never fatal.
            var badIps = data.IpRules!.Where(r => r.Status == 0 && r.Name == "bad-ip").Select(r => (long)r.Id).ToHashSet();
            Assert.True(badIps.IsSubsetOf(snapshot.Problems.Where(p => p.Table == "ip_map").Select(p => p.RowId)), $"seed {seed}: a bad ip was not reported");

            for (var call = 0; call < 150; call++)
            {
                var (source, sourceText) = RandomSource(random, expectedRules.Count > 0 ? expectedRules : [.. snapshot.UsableRules]);
                var number = RandomNumber(random);
                var profile = new[] { null, "A", "B", "C" }[random.Next(4)];

                var expected = ReferenceCandidates(expectedRules, source, number, profile).FirstOrDefault();
                var actual = snapshot.Rules.Match(source, number, profile);

                Assert.True(expected?.Id == actual?.Id,
                    $"seed {seed}, call {call}: source {sourceText}, number '{number}', profile {profile ?? "(none)"}: expected {Describe(expected)}, got {Describe(actual)}");
            }

            sawUnusable += data.IpRules!.Count() - expectedRules.Count;
            sawUsable += expectedRules.Count;
        }

        Assert.True(sawUnusable > 100 && sawUsable > 100, $"generator imbalance: {sawUsable} usable, {sawUnusable} not");
    }

    /// <summary>Random ASTPP rows and, computed independently of the builder, the rules the spec says are usable.</summary>
    private static (SnapshotData Data, List<IpRule> Usable) RandomSnapshotData(Random random)
    {
        var accounts = Enumerable.Range(1, 12).Select(id => new AccountRow
        {
            Id = id,
            Number = (1_000_000_000 + id).ToString(CultureInfo.InvariantCulture),
            ResellerId = 0,
            PricelistId = 1,
            Status = random.Next(4) == 0 ? 1 : 0,
            Deleted = random.Next(5) == 0 ? 1 : 0,
        }).ToList();
        var profiles = new List<SipProfileRow>
        {
            new() { Id = 1, Name = "A", SipIp = "127.0.0.1", SipPort = "5060", ProfileData = "{}", Status = 0 },
            new() { Id = 2, Name = "B", SipIp = "127.0.0.1", SipPort = "5070", ProfileData = "{}", Status = 0 },
            new() { Id = 3, Name = "C", SipIp = "127.0.0.1", SipPort = "5080", ProfileData = "{}", Status = 1 },
        };

        // None, "0" and empty mean no default (every profile); 1 is A; 3 is inactive, which makes every
        // rule without its own profile unusable (fail closed).
        var defaultSetting = new[] { null, "0", "", "1", "1", "3" }[random.Next(6)];
        string? defaultProfile = defaultSetting == "1" ? "A" : null;
        var defaultBroken = defaultSetting == "3";

        var rows = new List<IpMapRow>();
        var usable = new List<IpRule>();
        var ids = Enumerable.Range(1, 1000).OrderBy(_ => random.Next()).Take(random.Next(10, 80)).ToList();
        foreach (var id in ids)
        {
            var network = RandomNetwork(random);
            var (ipText, valid) = random.Next(10) switch
            {
                0 => (new[] { "10.0.0.300", "host.example", "", "10.0.0.1/33", "10.1", "fe80::1%eth0", "2001:db8::/129", "01.2.3.4" }[random.Next(8)], false),
                _ => (NetworkText(random, network), true),
            };
            var accountId = random.Next(1, 14); // 13 does not exist
            var sipProfileId = new[] { 0, 0, 0, 1, 2, 3, 99 }[random.Next(7)];
            var status = random.Next(6) == 0 ? 1 : 0;
            var prefix = PrefixPool[random.Next(PrefixPool.Length)];
            var row = new IpMapRow
            {
                Id = id,
                Name = valid ? $"rule {id}" : "bad-ip",
                Ip = ipText,
                AccountId = accountId,
                SipProfileId = sipProfileId,
                Prefix = prefix,
                Context = random.Next(2) == 0 ? "" : "routing",
                Status = status,
            };
            rows.Add(row);

            var account = accounts.FirstOrDefault(a => a.Id == accountId);
            var accountUsable = account is { Status: 0, Deleted: 0 };
            var (profileUsable, profile) = sipProfileId switch
            {
                0 => (!defaultBroken, defaultProfile),
                1 => (true, "A"),
                2 => (true, (string?)"B"),
                _ => (false, null),
            };
            if (status == 0 && valid && accountUsable && profileUsable)
            {
                usable.Add(NewRule(id, network, prefix, profile));
            }
        }

        var data = new SnapshotData
        {
            ChangeToken = "test",
            Accounts = accounts,
            IpRules = rows,
            Devices = [],
            Profiles = profiles,
            Gateways = [],
            DefaultSipProfileSetting = defaultSetting,
        };
        return (data, usable);
    }

    /// <summary>Any of the spellings an operator may store for the same network.</summary>
    private static string NetworkText(Random random, IpNetwork network)
    {
        var hostInside = RandomHostIn(random, network);
        var address = new IpAddressKey(network.Bits, network.IsV4).ToString();
        var length = network.PrefixLength.ToString(CultureInfo.InvariantCulture);
        return random.Next(5) switch
        {
            0 when network.IsHost => address,
            1 => $"{hostInside}/{length}", // host bits set: masked off
            2 when network.IsV4 => $"::ffff:{address}/{(network.PrefixLength + 96).ToString(CultureInfo.InvariantCulture)}",
            3 => $" {address}/{length} ",
            _ => $"{address}/{length}",
        };
    }

    // ---------------------------------------------------------------- generators

    private static List<IpRule> RandomRules(Random random, int count, bool crowded = false)
    {
        var ids = Enumerable.Range(1, count * 4).OrderBy(_ => random.Next()).Take(count).ToList();
        var rules = new List<IpRule>(count);
        foreach (var id in ids)
        {
            // Shared addresses: often reuse another rule's network with a different prefix or profile.
            var share = rules.Count > 0 && (crowded ? random.Next(10) != 0 : random.Next(3) == 0);
            var network = share ? rules[random.Next(rules.Count)].Network : RandomNetwork(random);
            rules.Add(NewRule(id, network, PrefixPool[random.Next(PrefixPool.Length)], ProfilePool[random.Next(ProfilePool.Length)]));
        }

        return rules;
    }

    private static IpRule NewRule(int id, IpNetwork network, string prefix, string? profile) => new()
    {
        Id = id,
        Name = $"rule {id}",
        Network = network,
        Prefix = prefix,
        Terms = new RuleTerms
        {
            AccountId = id,
            AccountCode = id.ToString(CultureInfo.InvariantCulture),
            ResellerId = 0,
            PricelistId = 1,
            Context = "default",
            Profile = profile,
        },
    };

    // Small address pools so that networks nest, coincide and neighbour each other.
    private static readonly IpNetwork V4Space = IpNetwork.Parse("10.20.0.0/22");
    private static readonly IpNetwork V6Space = IpNetwork.Parse("2001:db8:aa::/118");

    private static IpNetwork RandomNetwork(Random random)
    {
        if (random.Next(3) == 0)
        {
            if (random.Next(40) == 0)
            {
                return IpNetwork.Parse("::/0");
            }

            int[] lengths = [118, 120, 124, 126, 127, 128, 128, 128, 64, 32];
            return RandomNetworkIn(random, V6Space, lengths[random.Next(lengths.Length)]);
        }

        if (random.Next(40) == 0)
        {
            return IpNetwork.Parse("0.0.0.0/0");
        }

        int[] v4Lengths = [8, 16, 22, 23, 24, 24, 26, 28, 30, 31, 32, 32, 32, 32];
        return RandomNetworkIn(random, V4Space, v4Lengths[random.Next(v4Lengths.Length)]);
    }

    private static IpNetwork RandomNetworkIn(Random random, IpNetwork space, int length)
    {
        var host = RandomHostIn(random, space);
        return new IpNetwork(host.Bits & IpNetwork.Mask(space.Width, length), length, space.IsV4);
    }

    private static IpNetwork RandomNetworkIn(Random random, IpNetwork space, int minLength, int maxLength, bool biasToHosts) =>
        RandomNetworkIn(random, space, biasToHosts && random.Next(2) == 0 ? maxLength : random.Next(minLength, maxLength + 1));

    private static IpAddressKey RandomHostIn(Random random, IpNetwork network)
    {
        var hostBits = network.Width - network.PrefixLength;
        var offset = hostBits == 0 ? UInt128.Zero : ((UInt128)(ulong)random.NextInt64() << 64 | (ulong)random.NextInt64()) & IpNetwork.AllOnes(hostBits);
        // Keep offsets small inside huge networks so that they still land near the other rules.
        if (hostBits > 10 && random.Next(2) == 0)
        {
            offset &= 1023;
        }

        return new IpAddressKey(network.Bits | offset, network.IsV4);
    }

    private static (IpAddressKey Source, string Text) RandomSource(Random random, List<IpRule> rules)
    {
        IpAddressKey source;
        var pick = random.Next(10);
        if (pick < 6 && rules.Count > 0)
        {
            source = RandomHostIn(random, rules[random.Next(rules.Count)].Network);
        }
        else if (pick < 8)
        {
            source = RandomHostIn(random, V4Space);
        }
        else if (pick < 9)
        {
            source = RandomHostIn(random, V6Space);
        }
        else
        {
            source = new IpAddressKey((uint)random.Next(), true);
        }

        // FreeSWITCH on a dual-stack socket reports IPv4 callers as ::ffff:a.b.c.d.
        if (source.IsV4 && random.Next(4) == 0)
        {
            var v4 = (uint)source.Bits;
            var text = string.Create(CultureInfo.InvariantCulture, $"::ffff:{v4 >> 24}.{(v4 >> 16) & 255}.{(v4 >> 8) & 255}.{v4 & 255}");
            Assert.True(IpAddressKey.TryParse(text, out var mapped) && mapped == source, text);
            return (mapped, text);
        }

        return (source, source.ToString());
    }

    private static string RandomNumber(Random random)
    {
        var prefix = random.Next(5) == 0 ? "" : PrefixPool[random.Next(PrefixPool.Length)];
        var tail = random.Next(6) == 0 ? "" : random.NextInt64(0, 100_000_000_000).ToString(CultureInfo.InvariantCulture);
        return prefix + (random.Next(4) == 0 ? PrefixPool[random.Next(PrefixPool.Length)] : "") + tail;
    }

    private static string Describe(IpRule? rule) => rule is null
        ? "(none)"
        : $"{rule.Id} [{rule.Network} prefix '{rule.Prefix}' profile {rule.Profile ?? "(any)"}]";
}
