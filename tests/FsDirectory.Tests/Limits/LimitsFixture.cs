using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Limits;

/// <summary>
/// The demo seed plus accounts with every combination of limits, each with its own IP rule, served
/// with Limits:Enabled. Reseller 50 (limits 100 channels, 20 cps) has accounts 42 and 43.
/// </summary>
public sealed class LimitsFixture : DemoServerFixture
{
    public const string NoLimits = "192.0.2.140";
    public const string AccountOnly = "192.0.2.141";
    public const string ResellerOnly = "192.0.2.142";
    public const string Both = "192.0.2.143";
    public const string CpsOnly = "192.0.2.144";

    public static readonly Dictionary<string, string?> Enabled = new() { ["Limits:Enabled"] = "true" };

    protected override IDictionary<string, string?> Settings => Enabled;

    protected override Task SeedAsync(TestDatabase database) => database.ExecuteAsync(
        """
        INSERT INTO accounts (id, number, reseller_id, pricelist_id, status, type, deleted, maxchannels, cps) VALUES
          (50, '5000000050', 0, 1, 0, 1, 0, 100, 20),
          (40, '4000000040', 0, 1, 0, 0, 0, 0, 0),
          (41, '4000000041', 0, 1, 0, 0, 0, 5, 0),
          (42, '4000000042', 50, 1, 0, 0, 0, 0, 0),
          (43, '4000000043', 50, 1, 0, 0, 0, 3, 2),
          (44, '4000000044', 0, 1, 0, 0, 0, 0, 7);
        INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status) VALUES
          (140, 'No limits',     '192.0.2.140', 40, 0,  0, 0, '', 'default', 0),
          (141, 'Account only',  '192.0.2.141', 41, 0,  0, 0, '', 'default', 0),
          (142, 'Reseller only', '192.0.2.142', 42, 50, 0, 0, '', 'default', 0),
          (143, 'Both',          '192.0.2.143', 43, 50, 0, 0, '', 'default', 0),
          (144, 'Cps only',      '192.0.2.144', 44, 0,  0, 0, '', 'default', 0);
        INSERT INTO sip_devices (id, username, sip_profile_id, reseller_id, accountid, dir_params, dir_vars, status) VALUES
          (40, '4001', 1, 0,  40, '{"password":"NoLimits-4001-secret"}', '{}', 0),
          (43, '4301', 1, 50, 43, '{"password":"Both-4301-secret"}', '{"fsdir_limit_channels":"999"}', 0);
        """);

    /// <summary>The real capture of a REGISTER's directory fetch, for <paramref name="user"/>.</summary>
    public static FreeSwitchForm Register(string user) =>
        FreeSwitchForm.Load("directory-sip_auth-register").With("user", user).With("sip_auth_username", user);

    /// <summary>The real capture of an ACL-authed INVITE, re-addressed to <paramref name="source"/> on the demo profile.</summary>
    public static FreeSwitchForm Call(string source, string number = "12066418000") =>
        FreeSwitchForm.Load("dialplan-acl-authed-tech-prefix")
            .With("Hunt-Network-Addr", source).With("Caller-Network-Addr", source)
            .With("Caller-Destination-Number", number).With("Hunt-Destination-Number", number)
            .With("variable_sofia_profile_name", "default");
}
