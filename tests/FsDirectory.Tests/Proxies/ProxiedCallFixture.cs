using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Proxies;

/// <summary>
/// The demo seed plus the profiles and proxies of the real proxied capture: its proxy 127.0.0.20 is
/// trusted on `trunks`, a second one (127.0.0.21) has an IP rule of its own, an IPv6 proxy, a load
/// balancer trusted only on `other`, and rows that cannot be used.
/// </summary>
public sealed class ProxiedCallFixture : DemoServerFixture
{
    public const string Capture = "dialplan-proxied-x-auth-ip";
    public const string Proxy = "127.0.0.20";
    public const string Customer = "203.0.113.10";

    protected override Task SeedAsync(TestDatabase database) => database.ExecuteAsync(
        """
        INSERT INTO sip_profiles (id, name, sip_ip, sip_port, profile_data, status) VALUES
          (2, 'trunks', '127.0.0.1', '5090', '{"context":"public"}', 0),
          (3, 'retired', '127.0.0.1', '5091', '{}', 1),
          (4, 'other', '127.0.0.1', '5092', '{"context":"public","apply-proxy-acl":"everyone","apply-proxy-acl-x-token":"X-Trust-Me"}', 0),
          (5, 'fsdir_proxies', '127.0.0.1', '5093', '{}', 0);
        INSERT INTO accounts (id, number, reseller_id, pricelist_id, status, type, deleted) VALUES
          (32, '3000000032', 2, 9, 0, 0, 0), (33, '3000000033', 0, 1, 0, 0, 0);
        INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status) VALUES
          (50, 'Contoso via proxy', '203.0.113.10/32',   2, 1, 0, 2, '12345678*', 'routing', 0),
          (51, 'Direct trunk',      '127.0.0.2/32',     32, 0, 0, 2, '',          'routing', 0),
          (52, 'Tailspin v6',       '2001:db8:300::/48', 4, 0, 0, 2, '',          'routing', 0),
          (53, 'Proxy own account', '127.0.0.21/32',    33, 0, 0, 2, '',          'routing', 0);
        INSERT INTO fsdir_trusted_proxies (id, name, ip, sip_profile_id, status) VALUES
          (1, 'kamailio-1',    '127.0.0.20/32',         2, 0),
          (2, 'kamailio-2',    '127.0.0.21/32',         2, 0),
          (3, 'opensips-v6',   '2001:db8:ffff::20/128', 2, 0),
          (4, 'other-lb',      '198.18.50.0/24',        4, 0),
          (5, 'switched off',  '127.0.0.30/32',         2, 1),
          (6, 'by name',       'proxy.example.com',     2, 0),
          (7, 'retired prof',  '127.0.0.31/32',         3, 0),
          (8, 'too wide',      '10.0.0.0/8',            2, 0),
          (9, 'no profile',    '127.0.0.32/32',        99, 0);
        """);
}
