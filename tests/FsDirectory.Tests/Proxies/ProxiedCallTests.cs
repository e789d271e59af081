using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Xml.Linq;
using FsDirectory.Tests.Infrastructure;
using FsDirectory.Tests.Reliability;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Proxies;

/// <summary>Calls relayed by a SIP proxy, posted as the real capture from FreeSWITCH 1.11.1 (proxy address in every address field, the caller in X-AUTH-IP).</summary>
public sealed class ProxiedCallTests(ProxiedCallFixture fixture) : IClassFixture<ProxiedCallFixture>
{
    private const string XAuthIp = "variable_sip_h_X-AUTH-IP";
    private readonly FsDirectoryServer _server = fixture.Server;

    private static FreeSwitchForm Proxied() => FreeSwitchForm.Load(ProxiedCallFixture.Capture);

    /// <summary>The same INVITE, reaching the switch from <paramref name="source"/> instead of the proxy.</summary>
    private static FreeSwitchForm From(string source) =>
        Proxied().With("Hunt-Network-Addr", source).With("Caller-Network-Addr", source).With("variable_sip_network_ip", source);

    private static string? Set(XDocument document, string variable) =>
        Actions(document).Where(a => a.Application == "set" && a.Data.StartsWith(variable + "=", StringComparison.Ordinal))
            .Select(a => a.Data[(variable.Length + 1)..]).SingleOrDefault();

    private static void AssertRejected(XDocument document) => Assert.Equal([("respond", "403 Forbidden")], Actions(document));

    private Task<JsonElement> ExplainAsync(string query) =>
        _server.Client.GetFromJsonAsync<JsonElement>("/api/ip-auth/resolve?" + query);

    [Fact]
    public async Task A_customer_behind_a_trusted_proxy_is_matched_by_its_x_auth_ip_with_the_prefix_stripped()
    {
        var document = await _server.FetchAsync(Proxied());

        Assert.Equal(("set", "accountcode=1000000001"), Actions(document)[0]);
        Assert.Equal("50", Set(document, "fsdir_ip_rule_id"));
        Assert.Equal("12345678*", Set(document, "fsdir_tech_prefix"));
        Assert.Equal(ProxiedCallFixture.Proxy, Set(document, "fsdir_proxy"));
        Assert.Equal(ProxiedCallFixture.Customer, Set(document, "fsdir_source_ip"));
        Assert.Equal(("transfer", "12066418000 XML routing"), Actions(document)[^1]);
        Assert.Equal("public", document.Descendants("context").Single().Attribute("name")!.Value);
    }

    [Fact]
    public async Task The_same_header_from_an_untrusted_source_is_ignored_counted_and_the_call_is_matched_by_its_real_source()
    {
        var before = await ScrapeAsync();

        var direct = await _server.FetchAsync(From("127.0.0.2"));
        var nobody = await _server.FetchAsync(From("192.0.2.77"));

        Assert.Equal("3000000032", Set(direct, "accountcode"));
        Assert.Equal("51", Set(direct, "fsdir_ip_rule_id"));
        Assert.Null(Set(direct, "fsdir_proxy"));
        Assert.Null(Set(direct, "fsdir_source_ip"));
        AssertRejected(nobody);
        var after = await ScrapeAsync();
        Assert.Equal(2, MetricsText.Value(after, "fsdir_x_auth_ip_untrusted_total") - MetricsText.Value(before, "fsdir_x_auth_ip_untrusted_total"));
        Assert.Contains(_server.Logs.Lines, l => l.Contains("X-AUTH-IP '203.0.113.10' ignored on a call from 192.0.2.77", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_trusted_proxy_without_the_header_is_matched_as_the_proxy_itself()
    {
        AssertRejected(await _server.FetchAsync(Proxied().Without(XAuthIp)));

        // A proxy that is also a customer of its own (rule 53) is accepted as that customer, and says so.
        var own = await _server.FetchAsync(From("127.0.0.21").Without(XAuthIp));
        Assert.Equal("3000000033", Set(own, "accountcode"));
        Assert.Equal("127.0.0.21", Set(own, "fsdir_proxy"));
        Assert.Equal("127.0.0.21", Set(own, "fsdir_source_ip"));
    }

    [Theory]
    [InlineData("203.0.113.10, 198.51.100.1")]
    [InlineData("203.0.113.10,198.51.100.1")]
    [InlineData("203.0.113.10:5060")]
    [InlineData("203.0.113.10/32")]
    [InlineData("[2001:db8:300::1]")]
    [InlineData("[2001:db8:300::1]:5060")]
    [InlineData("2001:db8:300::1%eth0")]
    [InlineData(" 203.0.113.10")]
    [InlineData("203.0.113.10 ")]
    [InlineData("203.0.113.010")]
    [InlineData("203.1")]
    [InlineData("0xcb.0.113.10")]
    [InlineData("unknown")]
    [InlineData("${sip_h_X-Other}")]
    [InlineData("")]
    public async Task A_header_from_a_trusted_proxy_that_is_not_exactly_one_address_gets_403(string header)
    {
        using var response = await _server.PostAsync(Proxied().With(XAuthIp, header));
        var text = await response.Content.ReadAsStringAsync();

        AssertRejected(XDocument.Parse(text));
        Assert.DoesNotContain("accountcode", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_header_repeated_in_another_letter_case_is_a_list_and_gets_403()
    {
        AssertRejected(await _server.FetchAsync(Proxied().WithRaw("variable_sip_h_x-auth-ip", "198.51.100.1")));
    }

    // Sofia never repeats a channel variable: a second X-AUTH-IP arrives as X-AUTH-IP-1, a third as -2, in
    // the letter case the proxy sent, each right after the one before. 127.0.0.2 is a customer of its own
    // (rule 51), so a call let through by either copy would be billed to somebody.
    [Theory]
    [InlineData("variable_sip_h_X-AUTH-IP-1")]
    [InlineData("variable_sip_h_x-auth-ip-1")]
    [InlineData("variable_sip_h_X-Auth-Ip-1")]
    [InlineData("variable_sip_h_X-AUTH-IP-12")]
    public async Task A_header_a_trusted_proxy_relays_twice_arrives_renamed_and_the_call_is_refused_and_counted(string copy)
    {
        var before = await ScrapeAsync();

        using var response = await _server.PostAsync(Proxied().WithAfter(XAuthIp, copy, "127.0.0.2"));
        var text = await response.Content.ReadAsStringAsync();

        AssertRejected(XDocument.Parse(text));
        Assert.DoesNotContain("accountcode", text, StringComparison.Ordinal);
        var after = await ScrapeAsync();
        Assert.Equal(1, MetricsText.Value(after, "fsdir_x_auth_ip_repeated_total") - MetricsText.Value(before, "fsdir_x_auth_ip_repeated_total"));
        Assert.Contains(_server.Logs.Lines, l => l.Contains("X-AUTH-IP from trusted proxy 127.0.0.20 is a list ('203.0.113.10,127.0.0.2')", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Three_copies_of_the_same_address_from_a_trusted_proxy_are_refused_too()
    {
        var form = Proxied()
            .WithAfter(XAuthIp, "variable_sip_h_X-AUTH-IP-1", ProxiedCallFixture.Customer)
            .WithAfter(XAuthIp, "variable_sip_h_X-AUTH-IP-2", ProxiedCallFixture.Customer);

        AssertRejected(await _server.FetchAsync(form));
    }

    [Fact]
    public async Task A_renamed_copy_from_an_untrusted_source_is_ignored_like_the_header_itself()
    {
        var document = await _server.FetchAsync(From("127.0.0.2").WithAfter(XAuthIp, "variable_sip_h_X-AUTH-IP-1", "203.0.113.99"));

        Assert.Equal("51", Set(document, "fsdir_ip_rule_id"));
        Assert.Null(Set(document, "fsdir_proxy"));
    }

    [Theory]
    [InlineData("2001:db8:300::5", "2001:db8:300::5")]
    [InlineData("2001:DB8:300:0:0:0:0:5", "2001:db8:300::5")]
    public async Task An_ipv6_header_is_matched_against_ipv6_rules_and_reported_canonically(string header, string canonical)
    {
        var document = await _server.FetchAsync(Proxied().With(XAuthIp, header).With("Caller-Destination-Number", "555").With("Hunt-Destination-Number", "555"));

        Assert.Equal("52", Set(document, "fsdir_ip_rule_id"));
        Assert.Equal(canonical, Set(document, "fsdir_source_ip"));
        Assert.Equal(("transfer", "555 XML routing"), Actions(document)[^1]);
    }

    [Fact]
    public async Task An_ipv6_proxy_and_an_ipv4_mapped_header_are_understood()
    {
        var document = await _server.FetchAsync(From("2001:db8:ffff::20").With(XAuthIp, "::ffff:203.0.113.10"));

        Assert.Equal("50", Set(document, "fsdir_ip_rule_id"));
        Assert.Equal("2001:db8:ffff::20", Set(document, "fsdir_proxy"));
        Assert.Equal(ProxiedCallFixture.Customer, Set(document, "fsdir_source_ip"));
    }

    [Fact]
    public async Task A_proxy_configured_for_another_profile_is_not_trusted_on_this_one()
    {
        // 198.18.50.0/24 is trusted on `other` only: on `trunks` its header is ignored, and the proxy itself has no rule.
        AssertRejected(await _server.FetchAsync(From("198.18.50.7")));
        var explained = await ExplainAsync("ip=203.0.113.10&via=198.18.50.7&number=12345678*12066418000&profile=trunks");

        Assert.False(explained.GetProperty("accepted").GetBoolean());
        Assert.Equal("198.18.50.7", explained.GetProperty("matchedAddress").GetString());
        Assert.Contains("is not a trusted proxy on profile trunks", explained.GetProperty("addressReason").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.30")] // inactive
    [InlineData("127.0.0.31")] // on an inactive profile
    [InlineData("127.0.0.32")] // on a profile that does not exist
    [InlineData("10.1.2.3")]   // inside a range too wide to trust
    public async Task Unusable_proxy_rows_are_not_trusted(string source)
    {
        var explained = await ExplainAsync($"ip=203.0.113.10&via={source}&number=12345678*12066418000&profile=trunks");

        Assert.Equal(source, explained.GetProperty("matchedAddress").GetString());
        Assert.Equal(JsonValueKind.Null, explained.GetProperty("proxy").ValueKind);
    }

    [Fact]
    public void Unusable_proxy_rows_are_listed_as_problems_and_the_others_are_served()
    {
        var problems = _server.Snapshot!.Problems.Where(p => p.Table == "fsdir_trusted_proxies").ToDictionary(p => p.RowId, p => p.Problem);

        Assert.Equal([6L, 7L, 8L, 9L], problems.Keys.Order());
        Assert.Contains("hostnames are not accepted", problems[6], StringComparison.Ordinal);
        Assert.Contains("sip profile 3 is inactive", problems[7], StringComparison.Ordinal);
        Assert.Contains("wider than /16", problems[8], StringComparison.Ordinal);
        Assert.Contains("sip profile 99 does not exist", problems[9], StringComparison.Ordinal);
        Assert.Equal([1, 2, 3, 4], _server.Snapshot.Proxies.All.Select(p => p.Id));
    }

    [Fact]
    public async Task Caller_injected_p_accountcode_and_x_auth_ip_never_change_the_account()
    {
        // A direct caller (rule 51) claims to be Contoso in every way a header can.
        var direct = await _server.FetchAsync(From("127.0.0.2")
            .With("variable_sip_h_P-Accountcode", "1000000001")
            .With("variable_accountcode", "1000000001")
            .With(XAuthIp, ProxiedCallFixture.Customer));
        // Behind the proxy, the account follows X-AUTH-IP and nothing else.
        var relayed = await _server.FetchAsync(Proxied().With("variable_sip_h_P-Accountcode", "1000000002").With("variable_accountcode", "1000000002"));

        Assert.Equal("3000000032", Set(direct, "accountcode"));
        Assert.Equal("1000000001", Set(relayed, "accountcode"));
    }

    [Fact]
    public async Task Acl_conf_serves_the_proxy_lists_apart_from_the_inbound_lists()
    {
        var document = await _server.FetchAsync(FreeSwitchForm.Load("configuration-acl.conf"));
        var lists = document.Descendants("list").ToDictionary(
            l => l.Attribute("name")!.Value, l => l.Elements("node").SelectMany(n => n.Attribute("cidr")!.Value.Split(',')).ToArray());

        Assert.Equal(["default", "fsdir_proxies_other", "fsdir_proxies_trunks", "other", "trunks"], lists.Keys.Order());
        // 127.0.0.20 and .21 aggregate; the inactive and unusable rows are left out.
        Assert.Equal(["127.0.0.20/31", "2001:db8:ffff::20/128"], lists["fsdir_proxies_trunks"]);
        Assert.Equal(["198.18.50.0/24"], lists["fsdir_proxies_other"]);
        // A proxy address alone never lets a call in: only rule 53 (the proxy that is a customer) is in the inbound list.
        Assert.Equal(["127.0.0.2/32", "127.0.0.21/32", "203.0.113.10/32", "2001:db8:300::/48"], lists["trunks"]);
    }

    [Fact]
    public async Task Sofia_conf_names_the_proxy_list_exactly_on_the_profiles_that_have_proxies()
    {
        var document = await _server.FetchAsync(FreeSwitchForm.Load("configuration-sofia.conf"));
        var settings = document.Descendants("profile").ToDictionary(
            p => p.Attribute("name")!.Value,
            p => p.Element("settings")!.Elements("param").ToDictionary(x => x.Attribute("name")!.Value, x => x.Attribute("value")!.Value));

        Assert.Equal(["default", "other", "trunks"], settings.Keys.Order());
        Assert.Equal("fsdir_proxies_trunks", settings["trunks"]["apply-proxy-acl"]);
        Assert.Equal("trunks", settings["trunks"]["apply-inbound-acl"]);
        // profile_data's own apply-proxy-acl and x-token are dropped, and reported.
        Assert.Equal("fsdir_proxies_other", settings["other"]["apply-proxy-acl"]);
        Assert.DoesNotContain("apply-proxy-acl-x-token", settings["other"].Keys);
        Assert.DoesNotContain("apply-proxy-acl", settings["default"].Keys);
        Assert.DoesNotContain("apply-proxy-acl-x-token", settings["default"].Keys);
        Assert.Contains(_server.Snapshot!.Problems, p => p.Table == "sip_profiles" && p.RowId == 4 && p.Problem.Contains("apply-proxy-acl", StringComparison.Ordinal));
        Assert.Contains(_server.Snapshot.Problems, p => p.Table == "sip_profiles" && p.RowId == 5 && p.Problem.Contains("reserved", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Explain_with_via_shows_the_matched_address_the_proxy_and_the_reason()
    {
        var relayed = await ExplainAsync("ip=203.0.113.10&via=127.0.0.20&number=12345678*12066418000&profile=trunks");
        var proxyItself = await ExplainAsync("ip=127.0.0.20&number=12345678*12066418000&profile=trunks");
        var badHeader = await ExplainAsync("ip=203.0.113.10:5060&via=127.0.0.20&number=12345678*12066418000&profile=trunks");

        Assert.True(relayed.GetProperty("accepted").GetBoolean());
        Assert.Equal(50, relayed.GetProperty("rule").GetProperty("id").GetInt32());
        Assert.Equal("203.0.113.10", relayed.GetProperty("matchedAddress").GetString());
        Assert.Equal(1, relayed.GetProperty("proxy").GetProperty("id").GetInt32());
        Assert.Equal("trunks", relayed.GetProperty("proxy").GetProperty("profile").GetString());
        Assert.Contains("matched by its X-AUTH-IP 203.0.113.10", relayed.GetProperty("addressReason").GetString(), StringComparison.Ordinal);
        Assert.False(proxyItself.GetProperty("accepted").GetBoolean());
        Assert.Contains("matched as the proxy itself", proxyItself.GetProperty("addressReason").GetString(), StringComparison.Ordinal);
        Assert.False(badHeader.GetProperty("accepted").GetBoolean());
        Assert.Contains("not exactly one IPv4 or IPv6 address", badHeader.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_trusted_proxies_api_is_off_without_admin_keys()
    {
        using var response = await _server.Client.GetAsync("/api/trusted-proxies");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private async Task<string> ScrapeAsync()
    {
        using var response = await _server.Client.GetAsync("/metrics");
        return await response.Content.ReadAsStringAsync();
    }
}
