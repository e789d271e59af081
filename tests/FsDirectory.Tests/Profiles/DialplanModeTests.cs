using System.Net.Http.Json;
using System.Xml.Linq;
using FsDirectory.Status;
using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Profiles;

/// <summary>
/// The demo seed plus `trunks` (the profile of the real captures) in dialplan mode, with ASTPP's usual
/// profile_data that asks for the opposite, a trusted proxy on it, and rules with prefixes for IPv4 and
/// IPv6; `default` stays in acl mode; `typo` has a mode that does not exist. Only the `default` context
/// is in FreeSwitch:ServedContexts, and the captures' calls arrive in `public`.
/// </summary>
public sealed class DialplanModeFixture : DemoServerFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["FreeSwitch:ServedContexts:0"] = "default",
    };

    protected override Task SeedAsync(TestDatabase database) => database.ExecuteAsync(
        """
        INSERT INTO sip_profiles (id, name, sip_ip, sip_port, profile_data, status, fsdir_ip_auth_mode) VALUES
          (2, 'trunks', '127.0.0.1', '5080', '{"context":"public","auth-calls":"true","apply-inbound-acl":"trunks","accept-blind-reg":"false"}', 0, 'dialplan'),
          (3, 'filtered', '127.0.0.1', '5081', '{"context":"public","apply-inbound-acl":"carriers"}', 0, 'DIALPLAN'),
          (4, 'typo', '127.0.0.1', '5082', '{"context":"public"}', 0, 'open');
        INSERT INTO accounts (id, number, reseller_id, pricelist_id, status, type, deleted) VALUES (40, '4000000040', 0, 1, 0, 0, 0);
        INSERT INTO ip_map (id, name, ip, accountid, sip_profile_id, prefix, context, status) VALUES
          (40, 'Trunk A',     '127.0.0.2',        40, 2, '12345678*', 'routing', 0),
          (41, 'Trunk hash',  '127.0.0.99',       40, 2, '4321#',     'routing', 0),
          (42, 'Trunk v6',    '::1',              40, 2, '12345678*', 'routing', 0),
          (43, 'Via proxy',   '203.0.113.10/32',  40, 2, '12345678*', 'routing', 0),
          (44, 'Acl trunk',   '192.0.2.77/32',    40, 1, '',          'routing', 0);
        INSERT INTO fsdir_trusted_proxies (id, name, ip, sip_profile_id, status) VALUES (1, 'kamailio-1', '127.0.0.20/32', 2, 0);
        """);
}

public sealed class DialplanModeTests(DialplanModeFixture fixture) : IClassFixture<DialplanModeFixture>
{
    private readonly FsDirectoryServer _server = fixture.Server;

    private static Dictionary<string, string> Settings(XElement profile) =>
        profile.Element("settings")!.Elements("param").ToDictionary(p => p.Attribute("name")!.Value, p => p.Attribute("value")!.Value);

    private static XElement Profile(XDocument document, string name) =>
        document.Descendants("profile").Single(p => p.Attribute("name")!.Value == name);

    /// <summary>A real capture as a dialplan-mode profile sends it: no ACL let it in, so it has no <c>sip_acl_authed_by</c>.</summary>
    private static FreeSwitchForm Capture(string name) => FreeSwitchForm.Load(name).Without("variable_sip_acl_authed_by");

    private static FreeSwitchForm Call(string source, string number, string profile = "trunks") =>
        Capture("dialplan-acl-authed-tech-prefix")
            .With("Hunt-Network-Addr", source).With("Caller-Network-Addr", source).With("variable_sip_network_ip", source)
            .With("Caller-Destination-Number", number).With("Hunt-Destination-Number", number)
            .With("variable_sofia_profile_name", profile);

    private static void AssertRefused(XDocument document, string because) =>
        Assert.True(Actions(document).SequenceEqual([("respond", "403 Forbidden")]), $"{because}: {document}");

    [Theory]
    [InlineData("configuration-sofia.conf")]
    [InlineData("configuration-sofia.conf-profile")]
    public async Task A_dialplan_mode_profile_is_served_with_auth_calls_false_and_without_its_customer_acl(string capture)
    {
        using var response = await _server.PostAsync(FreeSwitchForm.Load(capture));
        var text = await response.Content.ReadAsStringAsync();
        AssertSurvivesPreprocessor(text);

        var trunks = Settings(Profile(XDocument.Parse(text), "trunks"));
        Assert.Equal("false", trunks["auth-calls"]);
        Assert.False(trunks.ContainsKey("apply-inbound-acl"), "profile_data's apply-inbound-acl=trunks names the list acl.conf no longer serves");
        Assert.Equal("fsdir_proxies_trunks", trunks["apply-proxy-acl"]);
        Assert.Equal("false", trunks["accept-blind-reg"]);
        Assert.Equal("soft", trunks["rtp-timer-name"]);
        Assert.Single(XDocument.Parse(text).Descendants("profile").Single(p => p.Attribute("name")!.Value == "trunks").Descendants("param"), p => p.Attribute("name")!.Value == "auth-calls");
    }

    [Fact]
    public async Task Acl_mode_stays_the_default_and_an_unknown_mode_is_served_as_acl_and_reported()
    {
        var document = await _server.FetchAsync(FreeSwitchForm.Load("configuration-sofia.conf"));

        foreach (var name in new[] { "default", "typo" })
        {
            var settings = Settings(Profile(document, name));
            Assert.Equal("true", settings["auth-calls"]);
            Assert.Equal(name, settings["apply-inbound-acl"]);
        }

        Assert.Contains(_server.Snapshot!.Problems, p => p.Table == "sip_profiles" && p.RowId == 4 && p.Problem.Contains("'open'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_admin_list_other_than_the_customer_list_is_kept_as_a_further_filter()
    {
        var settings = Settings(Profile(await _server.FetchAsync(FreeSwitchForm.Load("configuration-sofia.conf")), "filtered"));

        Assert.Equal("false", settings["auth-calls"]);
        Assert.Equal("carriers", settings["apply-inbound-acl"]);
    }

    [Fact]
    public async Task Acl_conf_leaves_out_the_customer_list_of_a_dialplan_mode_profile_but_keeps_its_proxies()
    {
        var lists = AclLists(await _server.FetchAsync(FreeSwitchForm.Load("configuration-acl.conf")));

        Assert.False(lists.ContainsKey("trunks"));
        Assert.False(lists.ContainsKey("filtered"));
        Assert.Equal(["127.0.0.20/32"], lists["fsdir_proxies_trunks"]);
        Assert.Contains("192.0.2.77/32", lists["default"]);
        Assert.DoesNotContain(lists.Values.SelectMany(static l => l), cidr => cidr is "127.0.0.2/32" or "127.0.0.99/32" or "::1/128");
    }

    [Theory]
    [InlineData("dialplan-acl-authed-tech-prefix", "127.0.0.2", "12066418000 XML routing")]
    [InlineData("dialplan-hash-prefix", "127.0.0.99", "12066418000 XML routing")]
    [InlineData("dialplan-acl-authed-ipv6", "::1", "12066418000 XML routing")]
    public async Task A_ruled_source_with_its_prefix_is_accepted_on_a_dialplan_mode_profile(string capture, string source, string transfer)
    {
        var document = await _server.FetchAsync(Capture(capture).With("variable_sofia_profile_name", "trunks"));

        Assert.Equal(source, Capture(capture)["Hunt-Network-Addr"]);
        Assert.Equal(("set", "accountcode=4000000040"), Actions(document)[0]);
        Assert.Equal(("transfer", transfer), Actions(document)[^1]);
        Assert.Equal("public", document.Descendants("context").Single().Attribute("name")!.Value);
    }

    [Fact]
    public async Task Every_source_without_a_usable_rule_is_refused_on_a_dialplan_mode_profile()
    {
        var refused = new (FreeSwitchForm Form, string Why)[]
        {
            (Call("127.0.0.3", "12345678*12066418000"), "an address without a rule"),
            (Call("127.0.0.2", "12066418000"), "a ruled address without its prefix"),
            (Call("127.0.0.2", "87654321*12066418000"), "a ruled address with another prefix"),
            (Call("192.0.2.77", "12066418000"), "a rule of another profile"),
            (Call("192.0.2.10", "12066418000"), "a rule of the default profile only (demo 192.0.2.10 is bound to profile 1)"),
            (Call("2001:db8::99", "12345678*12066418000"), "an IPv6 address without a rule"),
            (Call("::2", "12345678*12066418000"), "the IPv6 neighbour of a ruled address"),
            (Call("127.0.0.2", "12345678*"), "a prefix and no number"),
            (Call("not-an-address", "12345678*12066418000"), "a source that is not an address"),
            (Capture("dialplan-plus-number"), "the real +number capture from a ruled address without the prefix"),
            (Capture("dialplan-digest-authed").Without("variable_fsdir_auth").Without("variable_sip_auth_username"), "the digest capture's source without its directory variables"),
            (Capture("dialplan-proxied-x-auth-ip").With("Hunt-Network-Addr", "127.0.0.21"), "X-AUTH-IP of a ruled customer from a source that is not a trusted proxy"),
            (Capture("dialplan-proxied-x-auth-ip").With("variable_sip_h_X-AUTH-IP", "127.0.0.2, 203.0.113.10"), "a list in X-AUTH-IP from the trusted proxy"),
        };

        foreach (var (form, why) in refused)
        {
            AssertRefused(await _server.FetchAsync(form), why);
        }
    }

    [Fact]
    public async Task A_trusted_proxy_on_a_dialplan_mode_profile_vouches_for_its_caller_as_in_acl_mode()
    {
        var document = await _server.FetchAsync(Capture("dialplan-proxied-x-auth-ip"));

        Assert.Equal(("transfer", "12066418000 XML routing"), Actions(document)[^1]);
        Assert.Contains(("set", "fsdir_proxy=127.0.0.20"), Actions(document));
        Assert.Contains(("set", "fsdir_source_ip=203.0.113.10"), Actions(document));
    }

    [Fact]
    public async Task Contexts_outside_ServedContexts_are_still_decided_on_a_dialplan_mode_profile_but_not_on_an_acl_mode_one()
    {
        // `public` is not served: on an acl-mode profile sofia already authenticated the call, and the static dialplan takes it.
        Assert.True(IsNotFound(await _server.FetchAsync(Call("192.0.2.77", "12066418000", profile: "default"))));
        Assert.True(IsNotFound(await _server.FetchAsync(Call("127.0.0.3", "12066418000", profile: "default"))));

        // On the dialplan-mode profile nothing else stands between the caller and the static dialplan.
        AssertRefused(await _server.FetchAsync(Call("127.0.0.3", "12066418000")), "an unruled source in an unserved context");
        Assert.Equal(("transfer", "12066418000 XML routing"), Actions(await _server.FetchAsync(Call("127.0.0.2", "12345678*12066418000")))[^1]);
    }

    [Fact]
    public async Task Caller_headers_named_like_the_authentication_variable_do_not_skip_the_gatekeeper()
    {
        // What a caller's own headers become (FREESWITCH.md, sofia.c): prefixed names, never variable_fsdir_auth.
        var spoofed = Call("127.0.0.3", "12066418000")
            .With("variable_sip_h_X-fsdir_auth", "ip")
            .With("variable_sip_h_P-fsdir_auth", "device")
            .With("variable_sip_i_fsdir_auth", "device")
            .WithRaw("variable_sip_h_X-a%26variable_fsdir_auth%3Dip", "x");

        AssertRefused(await _server.FetchAsync(spoofed), "headers named like fsdir_auth");
        // The variable itself (set only by the directory answer or our own transfer) still hands the call on.
        Assert.True(IsNotFound(await _server.FetchAsync(Call("127.0.0.3", "12066418000").With("variable_fsdir_auth", "device"))));
    }

    [Fact]
    public async Task A_call_padded_past_the_field_limit_gets_403_on_a_dialplan_mode_profile_and_413_on_an_acl_mode_one()
    {
        // Each SIP header of the caller's is one more form field; 5,000 of them are about 40 KB of INVITE.
        static string Padded(FreeSwitchForm form) => form.Body + string.Concat(Enumerable.Range(0, 5_000).Select(static i => $"&variable_sip_h_X-Pad-{i}=1"));

        using var gatekept = await _server.Client.PostAsync("/freeswitch",
            new StringContent(Padded(Call("127.0.0.2", "12345678*12066418000")), System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));
        using var authenticated = await _server.Client.PostAsync("/freeswitch",
            new StringContent(Padded(Call("192.0.2.77", "12066418000", profile: "default")), System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(System.Net.HttpStatusCode.OK, gatekept.StatusCode);
        var document = XDocument.Parse(await gatekept.Content.ReadAsStringAsync());
        AssertRefused(document, "a padded call on the dialplan-mode profile");
        Assert.Equal("public", document.Descendants("context").Single().Attribute("name")!.Value);
        Assert.Equal(System.Net.HttpStatusCode.RequestEntityTooLarge, authenticated.StatusCode);
    }

    [Fact]
    public async Task A_call_whose_fetch_is_declared_larger_than_the_body_limit_gets_403_on_a_dialplan_mode_profile_and_413_on_an_acl_mode_one()
    {
        static StringContent Huge(FreeSwitchForm form) =>
            new(form.Body + "&variable_sip_h_X-Huge=" + new string('a', 1_100_000), System.Text.Encoding.UTF8, "application/x-www-form-urlencoded");

        using var gatekept = await _server.Client.PostAsync("/freeswitch", Huge(Call("127.0.0.2", "12345678*12066418000")));
        using var authenticated = await _server.Client.PostAsync("/freeswitch", Huge(Call("192.0.2.77", "12066418000", profile: "default")));

        Assert.Equal(System.Net.HttpStatusCode.OK, gatekept.StatusCode);
        AssertRefused(XDocument.Parse(await gatekept.Content.ReadAsStringAsync()), "a call on the dialplan-mode profile whose fetch is over 1 MiB");
        Assert.Equal(System.Net.HttpStatusCode.RequestEntityTooLarge, authenticated.StatusCode);
        // And the service goes on answering.
        Assert.Equal(("transfer", "12066418000 XML routing"), Actions(await _server.FetchAsync(Call("127.0.0.2", "12345678*12066418000")))[^1]);
    }

    [Fact]
    public async Task The_status_shows_each_profiles_mode()
    {
        var status = (await _server.Client.GetFromJsonAsync<StatusResponse>("/api/status"))!;

        Assert.Equal(
            [("default", "acl", true), ("trunks", "dialplan", false), ("filtered", "dialplan", false), ("typo", "acl", true)],
            status.SipProfiles.Select(static p => (p.Name, p.IpAuthMode, p.CustomerAcl)));
    }
}

public sealed class ModeSwitchFixture : DemoServerFixture
{
    protected override Task SeedAsync(TestDatabase database) => database.ExecuteAsync(
        """
        INSERT INTO sip_profiles (id, name, sip_ip, sip_port, profile_data, status) VALUES (2, 'trunks', '127.0.0.1', '5080', '{"context":"public"}', 0);
        INSERT INTO ip_map (id, name, ip, accountid, sip_profile_id, prefix, context, status) VALUES (40, 'Trunk A', '127.0.0.2', 2, 2, '', 'routing', 0);
        """);
}

public sealed class ModeSwitchTests(ModeSwitchFixture fixture) : IClassFixture<ModeSwitchFixture>
{
    private async Task<(Dictionary<string, string[]> Acl, string? AuthCalls)> ServedAsync()
    {
        var acl = AclLists(await fixture.Server.FetchAsync(FreeSwitchForm.Load("configuration-acl.conf")));
        var sofia = await fixture.Server.FetchAsync(FreeSwitchForm.Load("configuration-sofia.conf-profile"));
        return (acl, Param(sofia, "auth-calls"));
    }

    private async Task<(Dictionary<string, string[]> Acl, string? AuthCalls)> ServedOnceAsync(Func<(Dictionary<string, string[]> Acl, string? AuthCalls), bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var served = await ServedAsync();
            if (done(served) || DateTime.UtcNow > deadline)
            {
                return served;
            }

            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Switching_a_profiles_mode_in_the_table_changes_acl_conf_and_sofia_conf_without_a_restart()
    {
        var before = await ServedAsync();
        Assert.Equal(["127.0.0.2/32"], before.Acl["trunks"]);
        Assert.Equal("true", before.AuthCalls);

        await fixture.Database.ExecuteAsync("UPDATE sip_profiles SET fsdir_ip_auth_mode = 'dialplan' WHERE id = 2");
        var dialplan = await ServedOnceAsync(static s => !s.Acl.ContainsKey("trunks"));
        Assert.False(dialplan.Acl.ContainsKey("trunks"));
        Assert.Equal("false", dialplan.AuthCalls);
        Assert.True(dialplan.Acl.ContainsKey("default"));

        await fixture.Database.ExecuteAsync("UPDATE sip_profiles SET fsdir_ip_auth_mode = 'acl' WHERE id = 2");
        var back = await ServedOnceAsync(static s => s.Acl.ContainsKey("trunks"));
        Assert.Equal(["127.0.0.2/32"], back.Acl["trunks"]);
        Assert.Equal("true", back.AuthCalls);
    }
}
