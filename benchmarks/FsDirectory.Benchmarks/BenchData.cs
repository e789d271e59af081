using System.Globalization;
using FsDirectory.IpAuth;

namespace FsDirectory.Benchmarks;

public enum RuleFamily
{
    V4,
    V6,

    /// <summary>What an ASTPP customer base looks like: mostly IPv4, some IPv6.</summary>
    Mixed,

    /// <summary>Consecutive IPv4 hosts only (a carrier's or hosting provider's address blocks): aggregation at its best.</summary>
    Dense,
}

/// <summary>One generated IP rule, before it becomes an <c>ip_map</c> row or an <see cref="IpRule"/>.</summary>
public sealed record RuleSpec(int Id, IpNetwork Network, string Prefix, int AccountId);

/// <summary>
/// Deterministic data shared by the micro-benchmarks, the SQL loader and the load generator, so that
/// the load generator knows which addresses and numbers hit which rules without asking the service.
/// The mix is what makes aggregation matter: scattered /32 hosts (which do not aggregate), dense
/// runs of consecutive hosts shared by two accounts told apart by tech prefix (which do), small
/// subnets and IPv6.
/// </summary>
public static class BenchData
{
    public const int Accounts = 20_000;
    public const string Tail = "12066418000";

    /// <summary>The one trusted SIP proxy (on every profile), in the benchmarking range no rule covers.</summary>
    public const string Proxy = "198.18.0.1";

    /// <summary>Sources no rule covers: TEST-NET-1 and an IPv6 range outside 2001:db8::/32.</summary>
    public static readonly IpNetwork MissV4 = IpNetwork.Parse("192.0.2.0/24");
    public static readonly IpNetwork MissV6 = IpNetwork.Parse("3fff:ffff::/32");

    public static List<RuleSpec> Rules(int count, RuleFamily family)
    {
        var rules = new List<RuleSpec>(count);
        for (var i = 0; i < count; i++)
        {
            var network = family switch
            {
                RuleFamily.V4 => V4Network(i),
                RuleFamily.V6 => V6Network(i),
                RuleFamily.Dense => new IpNetwork(0xAC10_0000u + (uint)(i / 2), 32, true),
                _ => i % 20 == 19 ? V6Network(i) : V4Network(i),
            };
            rules.Add(new RuleSpec(i + 1, network, Prefix(i), (i % Accounts) + 1));
        }

        return rules;
    }

    // 60% scattered hosts, 30% dense runs (two rules per address), 10% subnets.
    private static IpNetwork V4Network(int i) => (i % 10) switch
    {
        < 6 => new IpNetwork(0x0B00_0000u + (uint)((ulong)i * 2_654_435_761u % 0x3000_0000u), 32, true), // 11.0.0.0 - 58.255.255.255
        < 9 => new IpNetwork(0xAC10_0000u + (uint)Dense(i), 32, true), // 172.16.0.0 onwards, consecutive
        _ => new IpNetwork(0x0A00_0000u + ((uint)i << 4), 28, true), // 10.0.0.0/28 blocks
    };

    private static readonly UInt128 V6Base = IpNetwork.Parse("2001:db8::/32").Bits;

    private static IpNetwork V6Network(int i) => (i % 10) switch
    {
        < 6 => new IpNetwork(V6Base | ((UInt128)(ulong)i * 0x9E37_79B9_7F4A_7C15ul), 128, false),
        < 9 => new IpNetwork(V6Base | ((UInt128)0x1 << 92) | (UInt128)(uint)Dense(i), 128, false),
        _ => new IpNetwork(V6Base | ((UInt128)0x2 << 92) | ((UInt128)(uint)i << 64), 64, false),
    };

    /// <summary>Consecutive host numbers, each shared by two rules (two accounts behind one SBC).</summary>
    private static int Dense(int i) => (((i / 10) * 3) + (i % 10) - 6) / 2;

    /// <summary>A third of the rules take any number; the others need a tech prefix, with '*' and '#' as FreeSWITCH users write them.</summary>
    private static string Prefix(int i) => (i % 3) switch
    {
        0 => string.Empty,
        1 => ((i * 7919) % 100_000_000).ToString("D8", CultureInfo.InvariantCulture) + "*",
        _ => ((i * 104_729) % 10_000).ToString("D4", CultureInfo.InvariantCulture) + "#",
    };

    public static IpRule ToRule(RuleSpec spec) => new()
    {
        Id = spec.Id,
        Name = "bench " + spec.Id.ToString(CultureInfo.InvariantCulture),
        Network = spec.Network,
        Prefix = spec.Prefix,
        Terms = new RuleTerms { AccountId = spec.AccountId, AccountCode = AccountNumber(spec.AccountId), ResellerId = 0, PricelistId = 1, Context = "default", Profile = null },
    };

    public static string AccountNumber(int accountId) => (1_000_000_000 + accountId).ToString(CultureInfo.InvariantCulture);

    public static string DeviceUser(int deviceIndex) => (2_000_000 + deviceIndex).ToString(CultureInfo.InvariantCulture);

    public static string DevicePassword(int deviceIndex) => "bench-secret-" + deviceIndex.ToString(CultureInfo.InvariantCulture);

    /// <summary>A source address inside the rule's network (the network address itself for hosts).</summary>
    public static IpAddressKey SourceIn(IpNetwork network, Random random)
    {
        var hostBits = network.Width - network.PrefixLength;
        var offset = hostBits == 0 ? UInt128.Zero : (UInt128)(ulong)random.NextInt64() & IpNetwork.AllOnes(Math.Min(hostBits, 62));
        return new IpAddressKey(network.Bits | offset, network.IsV4);
    }

    public static IpMapRow IpMapRow(RuleSpec rule) => new()
    {
        Id = rule.Id,
        Name = "bench " + rule.Id.ToString(CultureInfo.InvariantCulture),
        Ip = rule.Network.ToString(),
        AccountId = rule.AccountId,
        Prefix = rule.Prefix,
        Context = "default",
        Status = 0,
    };

    public static SnapshotData Rows(IReadOnlyList<RuleSpec> rules, int devices)
    {
        var accounts = Enumerable.Range(1, Accounts).Select(id => new AccountRow
        {
            Id = id,
            Number = AccountNumber(id),
            ResellerId = 0,
            PricelistId = 1,
            Status = 0,
            Deleted = 0,
        }).ToList();
        var ipRows = rules.Select(IpMapRow).ToList();
        var deviceRows = Enumerable.Range(0, devices).Select(d => new SipDeviceRow
        {
            Id = d + 1,
            Username = DeviceUser(d),
            AccountId = (d % Accounts) + 1,
            DirParams = DeviceParams(d),
            DirVars = DeviceVars(d),
            Status = 0,
        }).ToList();
        return new SnapshotData
        {
            ChangeToken = "bench",
            Accounts = accounts,
            IpRules = ipRows,
            Devices = deviceRows,
            Profiles = [new SipProfileRow { Id = 1, Name = "default", SipIp = "127.0.0.1", SipPort = "5060", ProfileData = ProfileData, Status = 0 }],
            Gateways = [],
            DefaultSipProfileSetting = null,
            // Configured in every run, so that direct calls pay for the proxy check as they do in production.
            TrustedProxies = [new TrustedProxyRow { Id = 1, Name = "bench proxy", Ip = Proxy + "/32", SipProfileId = 0, Status = 0 }],
        };
    }

    public const string ProfileData = """{"context":"public","auth-calls":"true","apply-inbound-acl":"default","rtp-ip":"127.0.0.1","sip-ip":"127.0.0.1"}""";

    public static string DeviceParams(int d) =>
        $$"""{"password":"{{DevicePassword(d)}}","vm-password":"{{d.ToString(CultureInfo.InvariantCulture)}}"}""";

    public static string DeviceVars(int d) =>
        $$"""{"effective_caller_id_name":"Bench device {{d.ToString(CultureInfo.InvariantCulture)}}","effective_caller_id_number":"{{DeviceUser(d)}}"}""";
}
