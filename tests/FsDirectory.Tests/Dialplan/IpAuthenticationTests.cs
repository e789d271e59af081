using System.Net.Http.Json;
using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Dialplan;

public sealed class IpAuthenticationTests(IpAuthenticationFixture fixture) : IClassFixture<IpAuthenticationFixture>
{
    private readonly FsDirectoryServer _server = fixture.Server;

    /// <summary>The real capture of an ACL-authed INVITE, re-addressed to a demo source on the demo profile.</summary>
    private static FreeSwitchForm Call(string source, string number, string profile = "default") =>
        FreeSwitchForm.Load("dialplan-acl-authed-tech-prefix")
            .With("Hunt-Network-Addr", source).With("Caller-Network-Addr", source)
            .With("Caller-Destination-Number", number).With("Hunt-Destination-Number", number)
            .With("variable_sofia_profile_name", profile);

    private static string? Set(System.Xml.Linq.XDocument document, string variable) =>
        Actions(document).Where(a => a.Application == "set" && a.Data.StartsWith(variable + "=", StringComparison.Ordinal))
            .Select(a => a.Data[(variable.Length + 1)..]).SingleOrDefault();

    private static void AssertRejected(System.Xml.Linq.XDocument document)
    {
        Assert.Equal([("respond", "403 Forbidden")], Actions(document));
    }

    [Fact]
    public async Task Call_from_bound_address_with_prefix_is_transferred_without_the_prefix()
    {
        var document = await _server.FetchAsync(Call("203.0.113.10", "12345678*12066418000"));

        var actions = Actions(document);
        Assert.Equal(("set", "accountcode=1000000001"), actions[0]);
        Assert.Equal(("transfer", "12066418000 XML default"), actions[^1]);
        Assert.Equal("ip", Set(document, "fsdir_auth"));
        Assert.Equal("2", Set(document, "fsdir_account_id"));
        Assert.Equal("1", Set(document, "fsdir_reseller_id"));
        Assert.Equal("2", Set(document, "fsdir_pricelist_id"));
        Assert.Equal("4", Set(document, "fsdir_ip_rule_id"));
        Assert.Equal("Shared SBC Contoso", Set(document, "fsdir_ip_rule_name"));
        Assert.Equal("12345678*", Set(document, "fsdir_tech_prefix"));
        Assert.Equal("12345678*12066418000", Set(document, "fsdir_original_destination"));
        Assert.Equal("public", document.Descendants("context").Single().Attribute("name")!.Value);
    }

    [Fact]
    public async Task Two_accounts_sharing_one_address_are_told_apart_by_their_prefix()
    {
        var contoso = await _server.FetchAsync(Call("203.0.113.10", "12345678*12066418000"));
        var fabrikam = await _server.FetchAsync(Call("203.0.113.10", "87654321*12066418000"));

        Assert.Equal("1000000001", Set(contoso, "accountcode"));
        Assert.Equal("1000000002", Set(fabrikam, "accountcode"));
        Assert.Equal(("transfer", "12066418000 XML default"), Actions(fabrikam)[^1]);
    }

    [Fact]
    public async Task Shared_address_without_a_known_prefix_is_refused()
    {
        AssertRejected(await _server.FetchAsync(Call("203.0.113.10", "12066418000")));
    }

    [Fact]
    public async Task Call_from_a_bound_subnet_is_accepted_with_an_empty_prefix()
    {
        var document = await _server.FetchAsync(Call("198.51.100.23", "12345678*12066418000"));

        Assert.Equal("1000000002", Set(document, "accountcode"));
        // No prefix on the rule: the number is passed on unchanged.
        Assert.Equal(("transfer", "12345678*12066418000 XML default"), Actions(document)[^1]);
    }

    [Fact]
    public async Task The_most_specific_network_wins_among_equal_prefixes()
    {
        var inner = await _server.FetchAsync(Call("198.51.100.23", "555"));
        var outer = await _server.FetchAsync(Call("198.51.7.1", "555"));

        Assert.Equal("2", Set(inner, "fsdir_ip_rule_id"));
        Assert.Equal("33", Set(outer, "fsdir_ip_rule_id"));
        // The outer rule has no context: the configured default routing context applies.
        Assert.Equal(("transfer", "555 XML default"), Actions(outer)[^1]);
        // Rule pricelist when non-zero.
        Assert.Equal("5", Set(outer, "fsdir_pricelist_id"));
    }

    [Fact]
    public async Task A_longer_prefix_beats_a_more_specific_network()
    {
        // 198.51.100.77/32 has prefix 99; 198.51.100.0/24 has none: the prefix decides first.
        var document = await _server.FetchAsync(Call("198.51.100.77", "99555"));

        Assert.Equal("34", Set(document, "fsdir_ip_rule_id"));
        Assert.Equal(("transfer", "555 XML default"), Actions(document)[^1]);
    }

    [Fact]
    public async Task Rule_names_never_reach_action_data_with_expansion_characters()
    {
        var document = await _server.FetchAsync(Call("198.51.100.77", "99555"));

        Assert.Equal("__evil_ _name_", Set(document, "fsdir_ip_rule_name"));
    }

    [Fact]
    public async Task Plus_numbers_from_the_real_capture_are_accepted_and_kept()
    {
        var form = FreeSwitchForm.Load("dialplan-plus-number")
            .With("Hunt-Network-Addr", "192.0.2.10").With("variable_sofia_profile_name", "default");
        var document = await _server.FetchAsync(form);

        Assert.Equal("1000000001", Set(document, "accountcode"));
        Assert.Equal(("transfer", "+12066418000 XML default"), Actions(document)[^1]);
    }

    [Fact]
    public async Task Hash_prefix_from_the_real_capture_is_matched_literally_on_its_profile()
    {
        var document = await _server.FetchAsync(FreeSwitchForm.Load("dialplan-hash-prefix"));

        Assert.Equal("38", Set(document, "fsdir_ip_rule_id"));
        Assert.Equal(("transfer", "12066418000 XML routing") , Actions(document)[^1]);
    }

    [Fact]
    public async Task Real_capture_on_the_trunks_profile_is_authenticated_by_its_profile_bound_rule()
    {
        var document = await _server.FetchAsync(FreeSwitchForm.Load("dialplan-acl-authed-tech-prefix"));

        Assert.Equal("3000000032", Set(document, "accountcode"));
        Assert.Equal(("transfer", "12345678*12066418000 XML routing"), Actions(document)[^1]);
    }

    [Fact]
    public async Task A_rule_bound_to_one_profile_does_not_match_a_call_on_another()
    {
        AssertRejected(await _server.FetchAsync(Call("127.0.0.2", "12066418000", profile: "default")));
    }

    [Fact]
    public async Task Default_profile_rules_do_not_match_calls_on_another_profile()
    {
        AssertRejected(await _server.FetchAsync(Call("192.0.2.10", "12066418000", profile: "trunks")));
    }

    [Theory]
    [InlineData("192.0.2.99")]  // inactive rule
    [InlineData("192.0.2.30")]  // inactive account
    [InlineData("192.0.2.31")]  // deleted account
    [InlineData("192.0.2.40")]  // rule on an inactive profile
    [InlineData("192.0.2.11")]  // nobody
    [InlineData("2001:db8:101::1")]
    [InlineData("not-an-address")]
    [InlineData("192.0.2.10%eth0")]
    [InlineData("")]
    public async Task Calls_without_a_usable_rule_are_refused(string source)
    {
        AssertRejected(await _server.FetchAsync(Call(source, "12066418000")));
    }

    [Theory]
    [InlineData("${system(reboot)}")]
    [InlineData("12345678*${x}")]
    [InlineData("12345678*1206 641")]
    [InlineData("12345678*")]
    [InlineData("12345678*12066418000'")]
    [InlineData("12345678*12345678901234567890123456789012345678901234567890123456789012345")]
    public async Task Numbers_that_are_unsafe_after_the_prefix_are_refused_and_never_echoed(string number)
    {
        using var response = await _server.PostAsync(Call("203.0.113.10", number));
        var text = await response.Content.ReadAsStringAsync();

        AssertRejected(System.Xml.Linq.XDocument.Parse(text));
        Assert.DoesNotContain("{", text);
    }

    [Fact]
    public async Task Host_bits_of_a_stored_cidr_are_masked_off()
    {
        var document = await _server.FetchAsync(Call("192.0.2.201", "555"));

        Assert.Equal("35", Set(document, "fsdir_ip_rule_id"));
    }

    [Fact]
    public async Task Ipv4_mapped_ipv6_sources_match_ipv4_rules()
    {
        var document = await _server.FetchAsync(Call("::ffff:192.0.2.50", "555"));

        Assert.Equal("39", Set(document, "fsdir_ip_rule_id"));
    }

    [Theory]
    [InlineData("2001:db8:100::1", "3")]
    [InlineData("2001:db8:100:ffff::9", "3")]
    [InlineData("2001:DB8:200:0::7", "40")]
    public async Task Ipv6_sources_match_ipv6_ranges_and_hosts(string source, string ruleId)
    {
        var document = await _server.FetchAsync(Call(source, "555"));

        Assert.Equal(ruleId, Set(document, "fsdir_ip_rule_id"));
    }

    [Fact]
    public async Task Calls_already_authenticated_get_not_found_so_the_static_dialplan_continues()
    {
        var digest = FreeSwitchForm.Load("dialplan-digest-authed").With("variable_fsdir_auth", "device");
        var transferred = Call("203.0.113.10", "12066418000").With("variable_fsdir_auth", "ip");

        Assert.True(IsNotFound(await _server.FetchAsync(digest)));
        Assert.True(IsNotFound(await _server.FetchAsync(transferred)));
    }

    [Fact]
    public async Task Caller_controlled_headers_never_select_an_account()
    {
        var form = Call("192.0.2.11", "12066418000")
            .With("variable_sip_h_P-Accountcode", "1000000001")
            .With("variable_sip_h_X-Account", "2")
            .With("variable_accountcode", "1000000001");

        AssertRejected(await _server.FetchAsync(form));
    }

    [Fact]
    public async Task The_context_falls_back_to_hunt_context()
    {
        var form = Call("192.0.2.10", "555").Without("Caller-Context").With("Hunt-Context", "inbound");
        var document = await _server.FetchAsync(form);

        Assert.Equal("inbound", document.Descendants("context").Single().Attribute("name")!.Value);
        Assert.Equal("1000000001", Set(document, "accountcode"));
    }

    [Fact]
    public async Task Explain_endpoint_shows_the_winner_and_the_other_candidates()
    {
        var json = await _server.Client.GetFromJsonAsync<System.Text.Json.JsonElement>(
            "/api/ip-auth/resolve?ip=198.51.100.77&number=99555&profile=default");

        Assert.True(json.GetProperty("accepted").GetBoolean());
        Assert.Equal(34, json.GetProperty("rule").GetProperty("id").GetInt32());
        Assert.Equal("555", json.GetProperty("number").GetString());
        Assert.Equal([34, 2, 33], json.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("id").GetInt32()));
    }

    [Fact]
    public async Task Explain_endpoint_gives_the_reason_for_a_refusal()
    {
        var json = await _server.Client.GetFromJsonAsync<System.Text.Json.JsonElement>(
            "/api/ip-auth/resolve?ip=192.0.2.99&number=555&profile=default");

        Assert.False(json.GetProperty("accepted").GetBoolean());
        Assert.Contains("no usable IP rule", json.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Unusable_rows_are_listed_as_problems_and_do_not_stop_the_others()
    {
        var problems = _server.Snapshot!.Problems.Where(p => p.Table == "ip_map").ToDictionary(p => p.RowId, p => p.Problem);

        Assert.Contains("hostnames are not accepted", problems[36]);
        Assert.Contains("inactive", problems[31]);
        Assert.Contains("deleted", problems[32]);
        Assert.Contains("sip profile 3", problems[37]);
        Assert.DoesNotContain(7L, problems.Keys); // inactive rules are not problems
        Assert.Contains(_server.Snapshot.UsableRules, r => r.Id == 35);
    }
}
