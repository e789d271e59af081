using System.Globalization;
using System.Text;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.AdminConsole;

/// <summary>
/// ASTPP-style random data over the demo seed: 130 accounts of the operator and three resellers, and 130 rules
/// whose <c>ip_map.reseller_id</c> is drawn independently of their account's reseller (as seeded or drifted ASTPP
/// rows have it), on a small pool of addresses and prefixes so that rules of different resellers tie and shadow
/// each other. More than two pages of rules and of accounts in the console. The expected visibility is read from
/// the tables here, not from the service.
/// </summary>
public sealed class ResellerScopeData : IAsyncLifetime
{
    public const int Seed = 2212;
    public const string OperatorKey = "scope-operator-key-0123456789";

    /// <summary>The resellers with a key of their own; 0 is a key scoped to the operator's own accounts.</summary>
    public static readonly int[] Resellers = [0, 1, 101, 102];

    public TestDatabase Database { get; private set; } = null!;
    public FsDirectoryServer Server { get; private set; } = null!;

    /// <summary>Every rule: id, the account's reseller (null when the account is missing), an address it matches, its prefix and status.</summary>
    public IReadOnlyList<ScopedRule> Rules { get; private set; } = [];

    /// <summary>The customers and providers the accounts page lists (not deleted), by id, with their reseller.</summary>
    public IReadOnlyDictionary<int, int> ListedAccounts { get; private set; } = new Dictionary<int, int>();

    public static string KeyOf(int reseller) => $"scope-reseller{reseller}-key-0123456789";

    public HashSet<int> VisibleTo(int? reseller) =>
        [.. Rules.Where(r => reseller is null || r.AccountResellerId == reseller).Select(r => r.Id)];

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync(seed: true);
        await Database.ExecuteAsync(Generate(new Random(Seed)));
        Rules = (await Database.QueryAsync<ScopedRuleRow>(
            """
            SELECT CAST(m.id AS SIGNED) AS Id, CAST(a.reseller_id AS SIGNED) AS AccountResellerId, CAST(a.id IS NULL AS SIGNED) AS AccountMissing,
                   m.ip AS Ip, m.prefix AS Prefix, CAST(m.status AS SIGNED) AS Status
            FROM ip_map m LEFT JOIN accounts a ON a.id = m.accountid ORDER BY m.id
            """)).Select(r => new ScopedRule((int)r.Id, r.AccountMissing != 0 ? null : (int)(r.AccountResellerId ?? 0), FirstAddress(r.Ip), r.Prefix, (int)r.Status)).ToList();
        ListedAccounts = (await Database.QueryAsync<ScopedRuleRow>(
            "SELECT CAST(id AS SIGNED) AS Id, CAST(reseller_id AS SIGNED) AS AccountResellerId FROM accounts WHERE deleted = 0 AND type IN (0, 3)"))
            .ToDictionary(a => (int)a.Id, a => (int)(a.AccountResellerId ?? 0));

        var keys = new List<(string, string, int?)> { (OperatorKey, "ops", null) };
        keys.AddRange(Resellers.Select(r => (KeyOf(r), $"reseller-{r}", (int?)r)));
        Server = await FsDirectoryServer.StartAsync(Database.ConnectionString, AdminKeys.Settings([.. keys]));
    }

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
    }

    private static string Generate(Random random)
    {
        var sql = new StringBuilder();
        sql.AppendLine("INSERT INTO accounts (id, number, reseller_id, pricelist_id, status, type, deleted, company_name) VALUES");
        sql.AppendLine("  (101, '5000000101', 0, 1, 0, 1, 0, 'Litware Reseller'), (102, '5000000102', 0, 1, 0, 1, 0, 'Proseware Reseller'),");
        var accounts = new List<string>();
        for (var id = 1000; id < 1130; id++)
        {
            var provider = random.Next(10) == 0;
            var reseller = provider ? 0 : Resellers[random.Next(Resellers.Length)];
            accounts.Add(string.Create(CultureInfo.InvariantCulture,
                $"  ({id}, '7{id:D9}', {reseller}, 1, {(random.Next(12) == 0 ? 1 : 0)}, {(provider ? 3 : 0)}, 0, 'Random {id}')"));
        }

        sql.AppendLine(string.Join(",\n", accounts) + ";");

        // A small pool, so that rules of different accounts (and resellers) share a network and prefix.
        string[] networks =
        [
            .. Enumerable.Range(1, 20).Select(i => $"198.18.20.{i}/32"),
            .. Enumerable.Range(0, 5).Select(i => $"198.18.{30 + i}.0/24"),
            .. Enumerable.Range(0, 3).Select(i => $"2001:db8:{0x700 + i:x}::/64"),
        ];
        string[] prefixes = ["", "", "11*", "22*", "1122*"];
        int[] rowResellers = [0, 1, 101, 102, 7];
        var rules = new List<string>();
        for (var id = 2000; id < 2130; id++)
        {
            // 2 of the rules point at an account that does not exist: unusable, and nobody's but the operator's.
            var account = id % 65 == 0 ? 999_000 + id : 1000 + random.Next(130);
            rules.Add(string.Create(CultureInfo.InvariantCulture,
                $"  ({id}, 'R{id}', '{networks[random.Next(networks.Length)]}', {account}, {rowResellers[random.Next(rowResellers.Length)]}, 0, '{prefixes[random.Next(prefixes.Length)]}', 'default', {(random.Next(10) == 0 ? 1 : 0)})"));
        }

        sql.AppendLine("INSERT INTO ip_map (id, name, ip, accountid, reseller_id, sip_profile_id, prefix, context, status) VALUES");
        sql.AppendLine(string.Join(",\n", rules) + ";");
        return sql.ToString();
    }

    /// <summary>An address inside the stored network: the host itself, or the fifth address of a subnet.</summary>
    private static string FirstAddress(string ip)
    {
        var network = System.Net.IPNetwork.Parse(ip.Contains('/', StringComparison.Ordinal) ? ip : ip + (ip.Contains(':', StringComparison.Ordinal) ? "/128" : "/32"));
        var bytes = network.BaseAddress.GetAddressBytes();
        if (network.PrefixLength < bytes.Length * 8)
        {
            bytes[^1] += 5;
        }

        return new System.Net.IPAddress(bytes).ToString();
    }

    private sealed class ScopedRuleRow
    {
        public long Id { get; init; }
        public long? AccountResellerId { get; init; }
        public long AccountMissing { get; init; }
        public string Ip { get; init; } = string.Empty;
        public string Prefix { get; init; } = string.Empty;
        public long Status { get; init; }
    }
}

/// <param name="AccountResellerId">The account's reseller; null when the account does not exist.</param>
public sealed record ScopedRule(int Id, int? AccountResellerId, string Address, string Prefix, int Status);
