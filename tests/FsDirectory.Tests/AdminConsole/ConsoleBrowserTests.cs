using System.Diagnostics;
using FsDirectory.Tests.Infrastructure;
using OpenQA.Selenium;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.AdminConsole;

/// <summary>The scenarios, each in a real headless Chromium against the real service and MariaDB.</summary>
[Collection(ConsoleInChromium.Name)]
public sealed class ConsoleBrowserTests(ConsoleFixture fixture) : ConsoleScenarios(fixture)
{
    private static FreeSwitchForm Call(string source, string number = "+12066418000") =>
        FreeSwitchForm.Load("dialplan-plus-number")
            .With("Caller-Network-Addr", source).With("Hunt-Network-Addr", source)
            .With("Caller-Destination-Number", number).With("Hunt-Destination-Number", number)
            .With("variable_sofia_profile_name", "default");

    private Task<long> CountAsync(string where = "1 = 1") => Database.ScalarAsync<long>($"SELECT COUNT(*) FROM ip_map WHERE {where}");

    [Fact]
    public void A_wrong_key_is_refused_and_the_right_key_opens_the_console_until_logout() => Scenario(() =>
    {
        Browser.ClearCookies();
        Go("/console/ip-settings?status=0");
        Assert.StartsWith("/console/login", Path, StringComparison.Ordinal);

        Browser.Find("#key").SendKeys("not-a-key-0123456789-nope");
        Browser.ClickAndWait("form button[type=submit]");
        Assert.StartsWith("/console/login", Path, StringComparison.Ordinal);
        Assert.Equal("This key is not valid.", Browser.Text("#key-error"));
        Assert.Equal("true", Browser.Find("#key").GetAttribute("aria-invalid"));
        Assert.Equal(string.Empty, Browser.Find("#key").GetAttribute("value"));

        Browser.Find("#key").SendKeys(ConsoleFixture.AdminKey);
        Browser.ClickAndWait("form button[type=submit]");
        // Back where the login interrupted, filters included.
        Assert.Equal("/console/ip-settings?status=0", Path);
        Assert.Contains("ops", Browser.Text(".session .who"), StringComparison.Ordinal);
        Assert.True(Browser.Exists("tr[data-rule-id='1']"));

        Browser.ClickAndWait(".session button");
        Assert.StartsWith("/console/login", Path, StringComparison.Ordinal);
        Assert.Equal("You are logged out.", Notice);
        Go("/console/ip-settings");
        Assert.StartsWith("/console/login", Path, StringComparison.Ordinal);
    });

    [Fact]
    public Task A_hostname_is_refused_next_to_the_ip_field_and_a_valid_rule_is_answered_by_freeswitch_within_two_seconds() => Scenario(async () =>
    {
        LogIn(ConsoleFixture.AdminKey);
        var before = await CountAsync();
        Browser.ClickAndWait("a[href='/console/ip-settings/edit']");

        // The account is picked by searching, not by typing an id.
        PickAccount("Tailspin", 4);
        Type("#Input_Name", "Browser PBX");
        Type("#Input_Ip", "pbx.example.com");
        Type("#Input_Prefix", "");
        Assert.Equal("0", Browser.Find("#Input_SipProfileId").GetAttribute("value"));
        Browser.ClickAndWait(".rule-form button[type=submit]");

        Assert.Contains("is a hostname", Browser.Text("#Input_Ip-error"), StringComparison.Ordinal);
        Assert.Contains("Input_Ip-error", Browser.Find("#Input_Ip").GetAttribute("aria-describedby"), StringComparison.Ordinal);
        Assert.Equal("pbx.example.com", Browser.Find("#Input_Ip").GetAttribute("value"));
        Assert.Equal("Browser PBX", Browser.Find("#Input_Name").GetAttribute("value"));
        Assert.Equal("4", Browser.Find("#account").GetAttribute("value"));
        Assert.Equal(before, await CountAsync());

        Type("#Input_Ip", "198.18.30.7");
        Browser.ClickAndWait(".rule-form button[type=submit]");
        Assert.Contains("created", Notice, StringComparison.Ordinal);
        var id = await Database.ScalarAsync<int>("SELECT id FROM ip_map WHERE ip = '198.18.30.7/32'");
        var row = Browser.Find($"tr[data-rule-id='{id}']");
        Assert.Contains("Browser PBX", row.Text, StringComparison.Ordinal);
        Assert.Contains("global default (default)", row.Text, StringComparison.Ordinal);
        Assert.Contains("Usable", row.Text, StringComparison.Ordinal);

        var watch = Stopwatch.StartNew();
        while (!Actions(await Server.FetchAsync(Call("198.18.30.7"))).Contains(("set", "accountcode=1000000003")))
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), "the dialplan did not accept the new rule within 2 s");
            await Task.Delay(50);
        }
    });

    [Fact]
    public Task Three_selected_rules_are_deactivated_then_deleted_after_a_confirmation_that_counts_them() => Scenario(async () =>
    {
        await Database.ExecuteAsync(
            """
            INSERT INTO ip_map (name, ip, accountid, reseller_id, sip_profile_id, prefix, context, status) VALUES
              ('bulk one', '198.18.40.1/32', 4, 0, 0, '', 'default', 0),
              ('bulk two', '198.18.40.2/32', 4, 0, 0, '', 'default', 0),
              ('bulk three', '198.18.40.3/32', 5, 0, 0, '', 'default', 0);
            """);
        await Server.ReloadAsync();
        LogIn(ConsoleFixture.AdminKey);
        Go("/console/ip-settings?q=bulk");
        Assert.Equal(3, Browser.FindAll("tbody tr[data-rule-id]").Count);
        Assert.All(Browser.FindAll("[data-bulk]"), b => Assert.False(b.Enabled));

        foreach (var box in Browser.FindAll("tbody input[name=ids]"))
        {
            box.Click();
        }

        Assert.Equal("3", Browser.Text("[data-selected-count]"));
        Browser.ClickAndWait("button[formaction*='handler=Deactivate']");
        Assert.StartsWith("3 IP setting(s) deactivated", Notice, StringComparison.Ordinal);
        Assert.Equal("/console/ip-settings?q=bulk", Path);
        Assert.Equal(3, await CountAsync("name LIKE 'bulk %' AND status = 1"));
        Assert.All(Browser.FindAll("tbody tr[data-rule-id]"), r => Assert.Contains("Inactive", r.Text, StringComparison.Ordinal));
        Assert.Contains(("respond", "403 Forbidden"), Actions(await Server.FetchAsync(Call("198.18.40.2"))));

        Browser.Find("#select-all").Click();
        Assert.Equal("3", Browser.Text("[data-selected-count]"));
        Browser.ClickAndWait("button[formaction='/console/ip-settings/delete']");
        Assert.Equal("Delete 3 IP settings?", Browser.Text("h1"));
        Assert.Equal(3, Browser.FindAll("table tbody tr").Count);
        Assert.Equal(3, await CountAsync("name LIKE 'bulk %'"));

        Browser.ClickAndWait("form.confirm button.danger");
        Assert.StartsWith("3 IP setting(s) deleted", Notice, StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync("name LIKE 'bulk %'"));
        Assert.Contains("No IP setting matches", Browser.Text("tbody"), StringComparison.Ordinal);
    });

    [Fact]
    public Task A_reseller_key_sees_only_its_resellers_rules_even_through_crafted_urls_and_posts() => Scenario(async () =>
    {
        LogIn(ConsoleFixture.OtherResellerKey);
        var shown = Browser.FindAll("tbody tr[data-rule-id]").Select(r => r.GetAttribute("data-rule-id")).ToList();
        Assert.Equal(["46"], shown);
        Assert.False(Browser.Exists("#filter-reseller"));

        // Crafted URLs: another reseller's rule, filters naming its account or reseller, its problems, its CSV.
        Assert.Equal(404, Browser.FetchStatus("/console/ip-settings/edit/1"));
        Go("/console/ip-settings/edit/1");
        Assert.Equal("Not found", Browser.Text("h1"));
        Assert.DoesNotContain("Contoso", Browser.Text("main"), StringComparison.Ordinal);
        Go("/console/ip-settings?accountId=2");
        Assert.False(Browser.Exists("tbody tr[data-rule-id]"));
        Go("/console/ip-settings?resellerId=1");
        Assert.False(Browser.Exists("tbody tr[data-rule-id]"));
        Go("/console/ip-settings/problems");
        Assert.DoesNotContain("rule 41", Browser.Text("main"), StringComparison.Ordinal);
        var csv = Browser.Script<string>("const r = new XMLHttpRequest(); r.open('GET', '/console/ip-settings/csv?handler=Export', false); r.send(); return r.responseText;");
        Assert.Contains("Adatum PBX", csv, StringComparison.Ordinal);
        Assert.DoesNotContain("Contoso", csv, StringComparison.Ordinal);

        // Crafted form posts with a valid token: rule 1 added to the selection, a rule created for account 2.
        Go("/console/ip-settings");
        Browser.Find("tr[data-rule-id='46'] input[name=ids]").Click();
        Browser.Script<object>("const i = document.createElement('input'); i.type = 'hidden'; i.name = 'ids'; i.value = '1'; document.getElementById('bulk').appendChild(i); return null;");
        Browser.ClickAndWait("button[formaction*='handler=Deactivate']");
        Assert.Contains("IP setting(s) 1 not found", Alert, StringComparison.Ordinal);
        Assert.Equal(0, await Database.ScalarAsync<int>("SELECT status FROM ip_map WHERE id = 1"));
        Assert.Equal(0, await Database.ScalarAsync<int>("SELECT status FROM ip_map WHERE id = 46"));

        Go("/console/ip-settings");
        Browser.Find("tr[data-rule-id='46'] input[name=ids]").Click();
        Browser.Script<object>("const i = document.createElement('input'); i.type = 'hidden'; i.name = 'ids'; i.value = '1'; document.getElementById('bulk').appendChild(i); return null;");
        Browser.ClickAndWait("button[formaction='/console/ip-settings/delete']");
        Assert.DoesNotContain("Contoso", Browser.Text("main"), StringComparison.Ordinal);
        Assert.Equal("Delete 2 IP settings?", Browser.Text("h1"));
        Browser.ClickAndWait("form.confirm button.danger");
        Assert.Contains("Nothing was deleted", Alert, StringComparison.Ordinal);
        Assert.Equal(2, await CountAsync("id IN (1, 46)"));

        Go("/console/ip-settings/edit");
        Browser.Script<object>("const s = document.getElementById('account'); s.add(new Option('forged', '2')); s.value = '2'; return null;");
        Type("#Input_Name", "forged");
        Type("#Input_Ip", "198.18.31.1");
        Browser.ClickAndWait(".rule-form button[type=submit]");
        Assert.Equal("account 2 does not exist", Browser.Text("#account-error"));
        Assert.Equal(0, await CountAsync("name = 'forged'"));

        // The account search and the test-a-call panel keep to the reseller too.
        Assert.Contains("\"total\":0", Browser.Script<string>("const r = new XMLHttpRequest(); r.open('GET', '/console/accounts?handler=Search&q=Contoso', false); r.send(); return r.responseText;"), StringComparison.Ordinal);
        Go("/console/test-call?ip=192.0.2.10&number=5551234&profile=default");
        // Accepted by another reseller's rule: the key learns that, and nothing of the rule.
        Assert.Equal("Accepted", Browser.Text("#result-title"));
        Assert.Equal("a rule you cannot see (it belongs to another reseller's account)", Browser.Text("[data-fact=rule]"));
        Assert.False(Browser.Exists("[data-fact=number]"));

        // And the global default is shown but cannot be changed with a reseller key.
        Go("/console/settings/default-sip-profile?proposed=2");
        Assert.False(Browser.Exists(".impact form"));
        Assert.Contains("only a key without ResellerId", Browser.Text(".impact"), StringComparison.Ordinal);
    });

    [Fact]
    public void A_tie_shows_up_in_the_problems_view_with_a_link_to_edit_the_rule() => Scenario(() =>
    {
        LogIn(ConsoleFixture.AdminKey);
        Browser.ClickAndWait("nav a[href='/console/ip-settings/problems']");
        var tie = Browser.Find("tr[data-rule-id='41']");
        Assert.Equal("tie", tie.GetAttribute("data-kind"));
        Assert.Contains("ties with rule 40", tie.Text, StringComparison.Ordinal);

        Browser.ClickAndWait(tie.FindElement(By.CssSelector("a[href='/console/ip-settings/edit/41']")));
        Assert.Equal("IP setting 41: tie second", Browser.Text("h1"));
        Assert.Contains("Tie", Browser.Text(".state-line"), StringComparison.Ordinal);
    });

    [Fact]
    public void The_test_call_panel_shows_the_stripped_number_of_a_tech_prefix_call_and_the_reason_of_a_refused_one() => Scenario(() =>
    {
        LogIn(ConsoleFixture.AdminKey);
        Browser.ClickAndWait("nav a[href='/console/test-call']");
        Type("#call-ip", "203.0.113.10");
        Type("#call-number", "12345678*12066418000");
        Select("#call-profile", "default");
        Browser.ClickAndWait("form.panel button[type=submit]");

        Assert.Equal("Accepted", Browser.Text(".verdict"));
        Assert.Equal("12066418000", Browser.Text("[data-fact=number]"));
        Assert.Equal("default", Browser.Text("[data-fact=context]"));
        Assert.StartsWith("4 · Shared SBC Contoso", Browser.Text("[data-fact=rule]"), StringComparison.Ordinal);

        Type("#call-ip", "198.18.250.1");
        Browser.ClickAndWait("form.panel button[type=submit]");
        Assert.Equal("Refused (403 Forbidden)", Browser.Text(".verdict"));
        Assert.Equal("no usable IP rule matches the source address and number on profile default", Browser.Text("[data-fact=reason]"));
    });

    [Fact]
    public Task Making_an_account_ip_only_makes_its_devices_register_answer_forbid_registration() => Scenario(async () =>
    {
        var register = FreeSwitchForm.Load("directory-sip_auth-register");
        Assert.Null(Param(await Server.FetchAsync(register), "sip-forbid-register"));

        LogIn(ConsoleFixture.AdminKey);
        Browser.ClickAndWait("nav a[href='/console/accounts']");
        Type("#accounts-q", "1000000001");
        Browser.ClickAndWait("form.filters button[type=submit]");
        var row = Browser.Find("#account-2");
        Assert.Contains("Passwords allowed", row.Text, StringComparison.Ordinal);
        Browser.ClickAndWait(row.FindElement(By.CssSelector("button")));

        Assert.StartsWith("Account 1000000001 is IP only", Notice, StringComparison.Ordinal);
        Assert.Contains("IP only", Browser.Text("#account-2"), StringComparison.Ordinal);
        Assert.Equal("true", Param(await Server.FetchAsync(register), "sip-forbid-register"));

        Browser.ClickAndWait("#account-2 button");
        Assert.Null(Param(await Server.FetchAsync(register), "sip-forbid-register"));
        Assert.Equal(0, await Database.ScalarAsync<int>("SELECT sip_credentials_disabled FROM accounts WHERE id = 2"));
    });

    [Fact]
    public Task A_csv_export_downloads_and_an_import_with_one_bad_line_names_it_and_imports_nothing() => Scenario(async () =>
    {
        LogIn(ConsoleFixture.AdminKey);
        foreach (var old in System.IO.Directory.GetFiles(Browser.Downloads))
        {
            File.Delete(old);
        }

        Browser.ClickAndWait("a[href='/console/ip-settings/csv']");
        Browser.Find("a[href='/console/ip-settings/csv?handler=Export']").Click();
        string? exported = null;
        Browser.WaitUntil(() => (exported = System.IO.Directory.GetFiles(Browser.Downloads, "ip-settings-*.csv").FirstOrDefault()) is not null, "the CSV download");
        var csv = await File.ReadAllTextAsync(exported!);
        Assert.StartsWith("id,name,ip,accountId,resellerId,prefix,sipProfileId,context,status\n", csv, StringComparison.Ordinal);
        Assert.Contains("4,Shared SBC Contoso,203.0.113.10/32,2,1,12345678*,0,default,0", csv, StringComparison.Ordinal);

        var before = await CountAsync();
        var bad = System.IO.Path.Combine(Browser.Downloads, "bad.csv");
        await File.WriteAllTextAsync(bad, "name,ip,accountId,prefix\ncsv one,198.18.50.1,4,\ncsv two,pbx.example.org,4,\ncsv three,198.18.50.3,5,\n");
        Browser.Find("#csv-file").SendKeys(bad);
        Browser.ClickAndWait("form[enctype] button[type=submit]");
        Assert.StartsWith("Nothing was imported: line 3: ip 'pbx.example.org' is a hostname", Browser.Text("#page-error"), StringComparison.Ordinal);
        Assert.Equal(before, await CountAsync());

        var good = System.IO.Path.Combine(Browser.Downloads, "good.csv");
        await File.WriteAllTextAsync(good, "name,ip,accountId,prefix\ncsv one,198.18.50.1,4,\ncsv three,198.18.50.3,5,\n");
        Browser.Find("#csv-file").SendKeys(good);
        Browser.ClickAndWait("form[enctype] button[type=submit]");
        Assert.Equal("2 IP setting(s) imported from good.csv.", Notice);
        Assert.Equal(before + 2, await CountAsync());
        await Database.ExecuteAsync("DELETE FROM ip_map WHERE name LIKE 'csv %'");
        await Server.ReloadAsync();
    });

    [Fact]
    public Task A_form_posted_without_its_antiforgery_token_is_refused_and_changes_nothing() => Scenario(async () =>
    {
        LogIn(ConsoleFixture.AdminKey);
        var before = await CountAsync();
        Go("/console/ip-settings/edit");
        PickAccount("Tailspin", 4);
        Type("#Input_Name", "no token");
        Type("#Input_Ip", "198.18.32.1");
        Browser.Script<object>("document.querySelectorAll('.rule-form input[name=__RequestVerificationToken]').forEach(e => e.remove()); return null;");
        Browser.ClickAndWait(".rule-form button[type=submit]");

        Assert.Equal("Form refused", Browser.Text("h1"));
        Assert.Equal(before, await CountAsync());
        Assert.Equal(0, await CountAsync("name = 'no token'"));
    });

    [Fact]
    public Task Changing_the_global_default_profile_shows_how_many_rules_change_before_saving() => Scenario(async () =>
    {
        var onDefault = await CountAsync("sip_profile_id = 0");
        LogIn(ConsoleFixture.AdminKey);
        Browser.ClickAndWait("nav a[href='/console/settings/default-sip-profile']");
        Assert.Equal("default (id 1)", Browser.Text("[data-fact=current]"));

        Select("#proposed", "2");
        Browser.ClickAndWait("form.panel button[type=submit]");
        Assert.Contains($"{onDefault} IP setting(s)", Browser.Text("[data-fact=impact]"), StringComparison.Ordinal);
        Assert.Contains("from default (id 1) to second (id 2)", Browser.Text("[data-fact=impact]"), StringComparison.Ordinal);
        Assert.Equal("1", await Database.ScalarAsync<string>("SELECT value FROM `system` WHERE name = 'ip_auth_default_sip_profile'"));
        try
        {
            Browser.ClickAndWait(".impact form button");
            Assert.Contains("is now second (id 2)", Notice, StringComparison.Ordinal);
            Assert.Equal("2", await Database.ScalarAsync<string>("SELECT value FROM `system` WHERE name = 'ip_auth_default_sip_profile'"));
            // Rule 1 (192.0.2.10, on the global default) now answers on "second" only.
            Assert.Contains(("respond", "403 Forbidden"), Actions(await Server.FetchAsync(Call("192.0.2.10"))));
            Assert.Contains(("set", "accountcode=1000000001"), Actions(await Server.FetchAsync(Call("192.0.2.10").With("variable_sofia_profile_name", "second"))));
        }
        finally
        {
            await Database.ExecuteAsync("UPDATE `system` SET value = '1' WHERE name = 'ip_auth_default_sip_profile'");
            await Server.ReloadAsync();
        }
    });

    [Fact]
    public void The_browser_reports_an_inline_script_as_a_csp_violation_and_does_not_run_it() => Scenario(() =>
    {
        // The control for every scenario's "no CSP violation" check: a violation does reach the log this reads.
        LogIn(ConsoleFixture.AdminKey);
        Browser.TakeLog();
        Browser.Script<object>("const s = document.createElement('script'); s.textContent = 'window.injected = true;'; document.body.appendChild(s); return null;");
        Browser.WaitUntil(() => Browser.TakeLog().Any(l => l.Contains("Content Security Policy", StringComparison.Ordinal)), "the CSP violation in the browser's log");
        Assert.Null(Browser.Script<object?>("return window.injected === undefined ? null : window.injected;"));
    });

    [Fact]
    public void The_status_view_shows_the_snapshot_the_database_and_each_switch() => Scenario(() =>
    {
        LogIn(ConsoleFixture.AdminKey);
        Browser.ClickAndWait("nav a[href='/console/status']");
        Assert.Equal(Server.Snapshot!.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), Browser.Text("[data-fact=version]"));
        Assert.StartsWith("Triggers", Browser.Text("[data-fact=detection]"), StringComparison.Ordinal);
        Assert.Equal("Yes", Browser.Text("[data-fact=database]"));
        var node = Browser.Find("table.nodes tbody tr");
        Assert.Contains($"127.0.0.1:{Fixture.DeadSwitchPort}", node.Text, StringComparison.Ordinal);
        Assert.Contains("No", node.FindElement(By.CssSelector("td[data-label=Connected]")).Text, StringComparison.Ordinal);
    });
}
