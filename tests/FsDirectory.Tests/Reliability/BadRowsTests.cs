using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Reliability;

public sealed class BadRowsFixture : DemoServerFixture
{
    public const string BrokenRowPassword = "Broken-row-secret-5e1d";
    public static readonly string Huge = new('h', 10_000);

    protected override Task SeedAsync(TestDatabase database) => database.ExecuteAsync(
        """
        INSERT INTO accounts (id, number, reseller_id, pricelist_id, status, type, deleted) VALUES
          (30, '3000000030', NULL, 1, 0, NULL, 0);
        INSERT INTO sip_devices (id, username, accountid, reseller_id, dir_params, dir_vars, status) VALUES
          (30, 'broken-params', 2, 1, CONCAT('{"password":"', @secret), '{}', 0),
          (31, 'broken-vars', 2, 1, '{"password":"x"}', '{"user_context":', 0),
          (32, 'null-account-fields', 30, 0, '{"password":"y"}', '{}', 0),
          (33, 'huge-values', 2, 1, @hugeParams, @hugeVars, 0),
          (34, 'nested-json', 2, 1, '{"password":{"a":1}}', '[]', 0),
          (35, '', 2, 1, '{"password":"z"}', '{}', 0);
        INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status) VALUES
          (30, 'not an ip', 'not-an-ip', 2, 1, 0, 0, '', 'default', 0),
          (31, 'zone id', 'fe80::1%eth0', 2, 1, 0, 0, '', 'default', 0),
          (32, 'bad prefix len', '192.0.2.0/33', 2, 1, 0, 0, '', 'default', 0),
          (33, 'octets', '999.999.999.999', 2, 1, 0, 0, '', 'default', 0),
          (34, 'empty', '', 2, 1, 0, 0, '', 'default', 0),
          (35, 'no account', '198.18.0.1', 999, 1, 0, 0, '', 'default', 0),
          (36, 'bad context', '198.18.0.2', 2, 1, 0, 0, '', '${system(id)}', 0),
          (37, 'bad prefix', '198.18.0.3', 2, 1, 0, 0, '$${x}', 'default', 0);
        INSERT INTO sip_profiles (id, name, sip_ip, sip_port, profile_data, status) VALUES
          (30, 'broken', '127.0.0.1', '5090', '{"rtp-ip":', 0),
          (31, 'huge', '127.0.0.1', '5091', @hugeProfile, 0),
          (32, 'bad name!', '127.0.0.1', '5092', '{}', 0);
        INSERT INTO gateways (id, name, sip_profile_id, gateway_data, status) VALUES
          (30, 'broken-gw', 1, '{"password":', 0);
        INSERT INTO `system` (id, name, display_name, value, reseller_id) VALUES (30, NULL, '', NULL, 0);
        """,
        new
        {
            secret = BrokenRowPassword,
            hugeParams = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["password"] = "huge-pw", ["vm-password"] = Huge }),
            hugeVars = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["effective_caller_id_name"] = Huge }),
            hugeProfile = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["user-agent-string"] = Huge }),
        });
}

/// <summary>A bad row costs only itself: every other device, rule and profile is still answered.</summary>
public sealed class BadRowsTests(BadRowsFixture fixture) : IClassFixture<BadRowsFixture>
{
    private readonly FsDirectoryServer _server = fixture.Server;

    [Fact]
    public async Task Good_devices_are_still_answered_beside_broken_ones()
    {
        var document = await _server.FetchAsync(FreeSwitchForm.Load("directory-sip_auth-register"));

        Assert.NotNull(Param(document, "a1-hash"));
        Assert.Equal("1001", document.Descendants("user").Single().Attribute("id")!.Value);
    }

    [Theory]
    [InlineData("broken-params")]
    [InlineData("broken-vars")]
    [InlineData("nested-json")]
    public async Task Device_with_broken_json_is_not_found_rather_than_half_answered(string user)
    {
        var document = await _server.FetchAsync(FreeSwitchForm.Load("directory-sip_auth-register").With("user", user));

        Assert.True(IsNotFound(document));
    }

    [Fact]
    public async Task Device_with_ten_thousand_character_values_affects_only_itself()
    {
        using var response = await _server.PostAsync(FreeSwitchForm.Load("directory-sip_auth-register").With("user", "huge-values"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        AssertSurvivesPreprocessor(text);
        Assert.NotNull(Param(await _server.FetchAsync(FreeSwitchForm.Load("directory-sip_auth-register").With("user", "1002")), "a1-hash"));
    }

    [Fact]
    public async Task Device_of_an_account_with_null_columns_is_answered_or_skipped_without_breaking_the_load()
    {
        var document = await _server.FetchAsync(FreeSwitchForm.Load("directory-sip_auth-register").With("user", "null-account-fields"));

        Assert.True(IsNotFound(document) || Param(document, "a1-hash") is not null);
    }

    [Fact]
    public async Task Good_ip_rules_still_authenticate_beside_unparsable_ones()
    {
        var document = await _server.FetchAsync(FreeSwitchForm.Load("dialplan-acl-authed-tech-prefix")
            .With("Hunt-Network-Addr", "192.0.2.10").With("Caller-Network-Addr", "192.0.2.10")
            .With("Hunt-Destination-Number", "12066418000").With("Caller-Destination-Number", "12066418000")
            .With("variable_sofia_profile_name", "default"));

        Assert.Contains(("transfer", "12066418000 XML default"), Actions(document));
    }

    [Fact]
    public async Task Rules_with_hostile_context_or_prefix_never_transfer()
    {
        foreach (var source in new[] { "198.18.0.2", "198.18.0.3" })
        {
            var document = await _server.FetchAsync(FreeSwitchForm.Load("dialplan-acl-authed-tech-prefix")
                .With("Hunt-Network-Addr", source).With("Caller-Network-Addr", source)
                .With("Hunt-Destination-Number", "12066418000").With("Caller-Destination-Number", "12066418000")
                .With("variable_sofia_profile_name", "default"));

            Assert.DoesNotContain(Actions(document), a => a.Application == "transfer");
        }
    }

    [Fact]
    public async Task Acl_conf_lists_the_good_networks_and_none_of_the_bad_rows()
    {
        using var response = await _server.PostAsync(FreeSwitchForm.Load("configuration-acl.conf"));
        var text = await response.Content.ReadAsStringAsync();

        AssertSurvivesPreprocessor(text);
        Assert.Contains("192.0.2.10/32", text, StringComparison.Ordinal);
        Assert.Contains("198.51.100.0/24", text, StringComparison.Ordinal);
        Assert.DoesNotContain("not-an-ip", text, StringComparison.Ordinal);
        Assert.DoesNotContain("fe80::1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("999.999", text, StringComparison.Ordinal);
        Assert.DoesNotContain("/33", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sofia_conf_still_serves_the_good_profile_beside_a_broken_one()
    {
        var document = await _server.FetchAsync(FreeSwitchForm.Load("configuration-sofia.conf"));
        var names = document.Descendants("profile").Select(p => p.Attribute("name")?.Value).ToList();

        Assert.Contains("default", names);
        Assert.DoesNotContain("broken", names);
        Assert.DoesNotContain("bad name!", names);
    }

    [Fact]
    public void Every_bad_row_is_reported_as_a_problem_of_its_own_row()
    {
        var problems = _server.Snapshot!.Problems.Select(p => (p.Table, p.RowId)).ToHashSet();

        Assert.Contains(("sip_devices", 30L), problems);
        Assert.Contains(("sip_devices", 31L), problems);
        Assert.Contains(("sip_devices", 34L), problems);
        Assert.Contains(("sip_devices", 35L), problems);
        Assert.Contains(("ip_map", 30L), problems);
        Assert.Contains(("ip_map", 31L), problems);
        Assert.Contains(("ip_map", 32L), problems);
        Assert.Contains(("ip_map", 33L), problems);
        Assert.Contains(("sip_profiles", 30L), problems);
        Assert.Contains(("sip_profiles", 32L), problems);
        Assert.Contains(("gateways", 30L), problems);
        Assert.DoesNotContain(problems, p => p.Table == "sip_devices" && p.RowId is >= 1 and <= 5 && p.RowId != 4);
    }

    [Fact]
    public void Problem_logs_never_echo_a_broken_rows_password()
    {
        Assert.Contains("Skipped sip_devices row 30", _server.Logs.All, StringComparison.Ordinal);
        Assert.DoesNotContain(BadRowsFixture.BrokenRowPassword, _server.Logs.All, StringComparison.Ordinal);
    }
}
