using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Dialplan;

/// <summary>
/// The demo seed plus a second SIP profile, `trunks` (the profile of the real captures), and rules
/// that exercise nesting, profiles, inactive accounts and odd names.
/// </summary>
public sealed class IpAuthenticationFixture : DemoServerFixture
{
    protected override Task SeedAsync(TestDatabase database) => database.ExecuteAsync(
        """
        INSERT INTO sip_profiles (id, name, sip_ip, sip_port, profile_data, status) VALUES
          (2, 'trunks', '127.0.0.1', '5080', '{"context":"public"}', 0),
          (3, 'retired', '127.0.0.1', '5090', '{}', 1);
        INSERT INTO accounts (id, number, reseller_id, pricelist_id, status, type, deleted) VALUES
          (30, '3000000030', 0, 7, 1, 0, 0), (31, '3000000031', 0, 7, 0, 0, 1), (32, '3000000032', 2, 9, 0, 0, 0);
        INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status) VALUES
          (30, 'Trunks only',      '127.0.0.2',          32, 0, 0, 2, '',      'routing', 0),
          (31, 'Inactive account', '192.0.2.30/32',      30, 0, 0, 0, '',      'default', 0),
          (32, 'Deleted account',  '192.0.2.31/32',      31, 0, 0, 0, '',      'default', 0),
          (33, 'Wide net',         '198.51.0.0/16',      32, 0, 5, 0, '',      '',        0),
          (34, '${evil} "name"',   '198.51.100.77/32',   32, 0, 0, 0, '99',    'default', 0),
          (35, 'Host bits',        '192.0.2.200/30',     32, 0, 0, 0, '',      'default', 0),
          (36, 'Broken ip',        'pbx.example.com',    32, 0, 0, 0, '',      'default', 0),
          (37, 'Retired profile',  '192.0.2.40/32',      32, 0, 0, 3, '',      'default', 0),
          (38, 'Hash prefix',      '127.0.0.99',         32, 0, 0, 2, '4321#', 'routing', 0),
          (39, 'Mapped v6 source', '192.0.2.50',         32, 0, 0, 0, '',      'default', 0),
          (40, 'v6 host',          '2001:db8:200::7',    32, 0, 0, 0, '',      'default', 0);
        """);
}
