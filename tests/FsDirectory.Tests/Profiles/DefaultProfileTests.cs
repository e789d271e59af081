using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Profiles;

public sealed class BrokenDefaultProfileFixture : DemoServerFixture
{
    // The global default names a profile that exists but is inactive.
    protected override Task SeedAsync(TestDatabase database) => database.ExecuteAsync(
        """
        INSERT INTO sip_profiles (id, name, sip_ip, sip_port, profile_data, status) VALUES (9, 'old', '127.0.0.1', '5099', '{}', 1);
        UPDATE `system` SET value = '9' WHERE name = 'ip_auth_default_sip_profile';
        """);
}

public sealed class DefaultProfileTests(BrokenDefaultProfileFixture fixture) : IClassFixture<BrokenDefaultProfileFixture>
{
    [Fact]
    public async Task Rules_without_a_profile_fail_closed_when_the_global_default_is_unusable()
    {
        var call = FreeSwitchForm.Load("dialplan-plus-number").With("Hunt-Network-Addr", "192.0.2.10")
            .With("variable_sofia_profile_name", "default");

        var document = await fixture.Server.FetchAsync(call);

        Assert.Equal([("respond", "403 Forbidden")], Actions(document));
        Assert.Contains(fixture.Server.Snapshot!.Problems, p => p.Table == "system");
        Assert.Contains(fixture.Server.Snapshot.Problems, p => p.Table == "ip_map" && p.RowId == 1);
        // The carrier rule bound to profile 1 explicitly is unaffected.
        Assert.Contains(fixture.Server.Snapshot.UsableRules, r => r.Id == 6);
    }

    [Fact]
    public async Task Without_a_configured_default_rules_apply_on_every_profile_as_in_astpp()
    {
        await fixture.Database.ExecuteAsync("UPDATE `system` SET value = '' WHERE name = 'ip_auth_default_sip_profile'");
        try
        {
            await fixture.Server.ReloadAsync();
            var call = FreeSwitchForm.Load("dialplan-plus-number").With("Hunt-Network-Addr", "192.0.2.10")
                .With("variable_sofia_profile_name", "anything");

            var document = await fixture.Server.FetchAsync(call);

            Assert.Equal(("transfer", "+12066418000 XML default"), Actions(document)[^1]);
        }
        finally
        {
            await fixture.Database.ExecuteAsync("UPDATE `system` SET value = '9' WHERE name = 'ip_auth_default_sip_profile'");
            await fixture.Server.ReloadAsync();
        }
    }
}
