using System.Xml.Linq;
using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Profiles;

public sealed class SofiaConfFixture : DemoServerFixture
{
    public const string OddValue = "say \"hi\" <b> & $${hold_music} 'x'";

    protected override Task SeedAsync(TestDatabase database) => database.ExecuteAsync(
        """
        INSERT INTO sip_profiles (id, name, sip_ip, sip_port, profile_data, status) VALUES
          (2, 'trunks', '127.0.0.1', '5080', @odd, 0),
          (3, 'retired', '127.0.0.1', '5090', '{}', 1),
          (4, 'broken', '127.0.0.1', '5100', '{"context":', 0),
          (5, 'ownacl', '$${local_ip_v4}', '5110', '{"apply-inbound-acl":"carriers","auth-calls":"false","rtp-timer-name":"soft"}', 0);
        INSERT INTO gateways (id, name, sip_profile_id, gateway_data, status, dialplan_variable) VALUES
          (1, 'carrier-a', 2, '{"proxy":"$${carrier_a_host}","register":"false","username":"u<1>"}', 0, ''),
          (2, 'carrier-old', 2, '{"proxy":"192.0.2.1"}', 1, ''),
          (3, 'carrier-bad', 2, '[1,2]', 0, '');
        INSERT INTO accounts (id, number, reseller_id, pricelist_id, status, type, deleted) VALUES (40, '4000000040', 0, 1, 0, 0, 0);
        INSERT INTO ip_map (id, name, ip, accountid, sip_profile_id, prefix, context, status) VALUES
          (40, 'Trunk A', '127.0.0.2', 40, 2, '', 'public', 0);
        """,
        new { odd = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["context"] = "public", ["hold-music"] = OddValue, ["sip-ip"] = "ignored" }) });
}

public sealed class SofiaConfTests(SofiaConfFixture fixture) : IClassFixture<SofiaConfFixture>
{
    private readonly FsDirectoryServer _server = fixture.Server;

    private static Dictionary<string, string> Settings(XElement profile) =>
        profile.Element("settings")!.Elements("param").ToDictionary(p => p.Attribute("name")!.Value, p => p.Attribute("value")!.Value);

    private async Task<(string Text, XDocument Document)> FetchAsync(FreeSwitchForm form)
    {
        using var response = await _server.PostAsync(form);
        var text = await response.Content.ReadAsStringAsync();
        FreeSwitchXml.AssertSurvivesPreprocessor(text);
        return (text, XDocument.Parse(text));
    }

    [Fact]
    public async Task The_first_fetch_serves_every_active_valid_profile()
    {
        var (_, document) = await FetchAsync(FreeSwitchForm.Load("configuration-sofia.conf"));

        Assert.Equal(["default", "trunks", "ownacl"], document.Descendants("profile").Select(p => p.Attribute("name")!.Value));
        Assert.Contains(_server.Snapshot!.Problems, p => p.Table == "sip_profiles" && p.RowId == 4);
    }

    [Fact]
    public async Task The_second_fetch_names_the_profile_and_gets_that_profile()
    {
        var (_, document) = await FetchAsync(FreeSwitchForm.Load("configuration-sofia.conf-profile"));

        var profile = Assert.Single(document.Descendants("profile"));
        Assert.Equal("trunks", profile.Attribute("name")!.Value);
        var settings = Settings(profile);
        Assert.Equal("127.0.0.1", settings["sip-ip"]);
        Assert.Equal("5080", settings["sip-port"]);
        Assert.Equal("trunks", settings["apply-inbound-acl"]);
        Assert.Equal("true", settings["auth-calls"]);
        Assert.Equal("false", settings["accept-blind-reg"]);
        Assert.Equal("soft", settings["rtp-timer-name"]);
    }

    [Theory]
    [InlineData("retired")]
    [InlineData("broken")]
    [InlineData("nosuch")]
    public async Task Unknown_inactive_or_broken_profiles_get_not_found(string profile)
    {
        var (_, document) = await FetchAsync(FreeSwitchForm.Load("configuration-sofia.conf-profile").With("profile", profile));

        Assert.True(IsNotFound(document));
    }

    [Fact]
    public async Task Profile_settings_may_override_the_defaults_and_choose_their_own_acl()
    {
        var (_, document) = await FetchAsync(FreeSwitchForm.Load("configuration-sofia.conf-profile").With("profile", "ownacl"));

        var settings = Settings(document.Descendants("profile").Single());
        Assert.Equal("carriers", settings["apply-inbound-acl"]);
        Assert.Equal("false", settings["auth-calls"]);
        Assert.Single(document.Descendants("param"), p => p.Attribute("name")!.Value == "rtp-timer-name");
    }

    [Fact]
    public async Task Admin_settings_pass_freeswitch_globals_through_unlike_device_data()
    {
        var (text, document) = await FetchAsync(FreeSwitchForm.Load("configuration-sofia.conf"));

        // Profile and gateway settings: $${...} reaches FreeSWITCH as written, so its preprocessor expands it.
        Assert.Contains("value=\"$${local_ip_v4}\"", text);
        Assert.Contains("value=\"$${carrier_a_host}\"", text);
        var trunks = document.Descendants("profile").Single(p => p.Attribute("name")!.Value == "trunks");
        Assert.Equal(SofiaConfFixture.OddValue, Settings(trunks)["hold-music"]);

        // Directory data: never expanded.
        using var directory = await _server.PostAsync(FreeSwitchForm.Load("directory-sip_auth-register"));
        Assert.DoesNotContain("$", await directory.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Columns_decide_sip_ip_and_port_over_profile_data()
    {
        var (_, document) = await FetchAsync(FreeSwitchForm.Load("configuration-sofia.conf-profile"));

        Assert.Single(document.Descendants("param"), p => p.Attribute("name")!.Value == "sip-ip");
        Assert.Equal("127.0.0.1", Settings(document.Descendants("profile").Single())["sip-ip"]);
    }

    [Fact]
    public async Task Active_gateways_are_served_inside_their_profile()
    {
        var (_, document) = await FetchAsync(FreeSwitchForm.Load("configuration-sofia.conf-profile"));

        var gateway = Assert.Single(document.Descendants("gateway"));
        Assert.Equal("carrier-a", gateway.Attribute("name")!.Value);
        var parameters = gateway.Elements("param").ToDictionary(p => p.Attribute("name")!.Value, p => p.Attribute("value")!.Value);
        Assert.Equal("u<1>", parameters["username"]);
        Assert.Contains(_server.Snapshot!.Problems, p => p.Table == "gateways" && p.RowId == 3);
    }

    [Fact]
    public async Task Directory_gateway_requests_stay_not_found()
    {
        Assert.True(IsNotFound(await _server.FetchAsync(FreeSwitchForm.Load("directory-gateways"))));
    }

    [Fact]
    public async Task Each_served_profile_applies_its_own_list_and_the_list_holds_its_rules_only()
    {
        var acl = await _server.FetchAsync(FreeSwitchForm.Load("configuration-acl.conf"));
        var lists = acl.Descendants("list").ToDictionary(l => l.Attribute("name")!.Value, l => l.Elements("node").SelectMany(n => n.Attribute("cidr")!.Value.Split(',')).ToArray());

        Assert.Equal(["127.0.0.2/32"], lists["trunks"]);
        Assert.DoesNotContain("127.0.0.2/32", lists["default"]);
    }
}
