using System.Net;
using System.Text.Json;
using FsDirectory.Cli;
using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Admin;

/// <summary>The API additions the console uses: account search, the account's "IP only" switch, the global default profile, sorting.</summary>
public sealed class AccountsAndSettingsApiTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    private readonly FsDirectoryServer _server = fixture.Server;
    private readonly AdminClient _admin = new(fixture.Server, AdminApiFixture.AdminKey);
    private readonly AdminClient _reseller = new(fixture.Server, AdminApiFixture.ResellerKey);
    private readonly AdminClient _other = new(fixture.Server, AdminApiFixture.OtherResellerKey);

    private static int[] Ids(JsonElement page) => [.. page.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("id").GetInt32())];

    private static async Task<string> IdsAsync(AdminClient client, string path)
    {
        var (status, page) = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, status);
        return string.Join(',', Ids(page));
    }

    private static FreeSwitchForm Call(string source, string profile) =>
        FreeSwitchForm.Load("dialplan-plus-number")
            .With("Caller-Network-Addr", source).With("Hunt-Network-Addr", source)
            .With("variable_sofia_profile_name", profile);

    [Fact]
    public async Task The_account_search_finds_customers_and_providers_by_number_or_name_within_the_keys_reseller()
    {
        var (status, all) = await _admin.GetAsync("/api/accounts?pageSize=100");
        Assert.Equal(HttpStatusCode.OK, status);
        // Reseller accounts (1, 9) and the deleted account 30 are never offered.
        Assert.Equal([2, 3, 4, 31, 5], Ids(all));
        Assert.Equal("Contoso PBX", all.GetProperty("items")[0].GetProperty("name").GetString());

        Assert.Equal("2", await IdsAsync(_admin, "/api/accounts?q=contoso"));
        Assert.Equal("5", await IdsAsync(_admin, "/api/accounts?q=900"));
        Assert.Equal("4", await IdsAsync(_admin, "/api/accounts?q=Tailspin"));
        // A number is also an exact account id.
        Assert.Contains(4, Ids((await _admin.GetAsync("/api/accounts?q=4")).Body));
        Assert.Equal(0, (await _admin.GetAsync("/api/accounts?q=%25")).Body.GetProperty("total").GetInt64());

        Assert.Equal("2,3", await IdsAsync(_reseller, "/api/accounts"));
        Assert.Equal("31", await IdsAsync(_other, "/api/accounts"));
        Assert.Empty(Ids((await _other.GetAsync("/api/accounts?q=Contoso")).Body));
        Assert.Equal(HttpStatusCode.NotFound, (await _other.GetAsync("/api/accounts/2")).Status);

        var (tooBig, problem) = await _admin.GetAsync("/api/accounts?pageSize=101");
        Assert.Equal(HttpStatusCode.BadRequest, tooBig);
        Assert.Equal("pageSize", problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Ip_only_is_validated_scoped_and_answered_at_once_by_the_register_lookup()
    {
        var register = FreeSwitchForm.Load("directory-sip_auth-register");
        Assert.Null(Param(await _server.FetchAsync(register), "sip-forbid-register"));

        var (missing, problem) = await _admin.SendAsync(HttpMethod.Put, "/api/accounts/2/ip-only", new { });
        Assert.Equal(HttpStatusCode.BadRequest, missing);
        Assert.Equal("ipOnly", problem.GetProperty("field").GetString());
        Assert.Equal("Invalid account request", problem.GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _other.SendAsync(HttpMethod.Put, "/api/accounts/2/ip-only", new { ipOnly = true })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.SendAsync(HttpMethod.Put, "/api/accounts/1/ip-only", new { ipOnly = true })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.SendAsync(HttpMethod.Put, "/api/accounts/999/ip-only", new { ipOnly = true })).Status);
        var (deleted, deletedProblem) = await _admin.SendAsync(HttpMethod.Put, "/api/accounts/30/ip-only", new { ipOnly = true });
        Assert.Equal(HttpStatusCode.BadRequest, deleted);
        Assert.Equal("account 30 is deleted", deletedProblem.GetProperty("detail").GetString());
        Assert.Equal(0, await fixture.Database.ScalarAsync<int>("SELECT SUM(sip_credentials_disabled) FROM accounts WHERE id IN (1, 2, 30)"));

        var (status, account) = await _reseller.SendAsync(HttpMethod.Put, "/api/accounts/2/ip-only", new { ipOnly = true });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(account.GetProperty("ipOnly").GetBoolean());
        // No waiting for the poll: the write rebuilt the snapshot before it answered.
        Assert.Equal("true", Param(await _server.FetchAsync(register), "sip-forbid-register"));

        (status, account) = await _reseller.SendAsync(HttpMethod.Put, "/api/accounts/2/ip-only", new { ipOnly = false });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(account.GetProperty("ipOnly").GetBoolean());
        Assert.Null(Param(await _server.FetchAsync(register), "sip-forbid-register"));
    }

    [Fact]
    public async Task The_global_default_profile_is_previewed_and_changed_only_with_a_key_without_reseller()
    {
        var (status, current) = await _admin.GetAsync("/api/settings/default-sip-profile");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, current.GetProperty("sipProfileId").GetInt32());
        Assert.Equal("default (id 1)", current.GetProperty("label").GetString());
        Assert.True(current.GetProperty("canChange").GetBoolean());
        Assert.Contains(current.GetProperty("profiles").EnumerateArray(), p => p.GetProperty("id").GetInt32() == 2 && !p.GetProperty("active").GetBoolean());
        Assert.False((await _reseller.GetAsync("/api/settings/default-sip-profile")).Body.GetProperty("canChange").GetBoolean());

        var onDefault = await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map WHERE sip_profile_id = 0");
        var activeOnDefault = await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map WHERE sip_profile_id = 0 AND status = 0");
        var (_, preview) = await _admin.GetAsync("/api/settings/default-sip-profile/preview?sipProfileId=0");
        Assert.Equal(onDefault, preview.GetProperty("rulesChanging").GetInt64());
        Assert.Equal(activeOnDefault, preview.GetProperty("activeRulesChanging").GetInt64());
        Assert.Equal("none (every profile)", preview.GetProperty("proposed").GetString());
        Assert.Equal(0, (await _admin.GetAsync("/api/settings/default-sip-profile/preview?sipProfileId=1")).Body.GetProperty("rulesChanging").GetInt64());
        // A reseller key previews the impact on its own rules only.
        var resellerOnDefault = await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map m JOIN accounts a ON a.id = m.accountid WHERE m.sip_profile_id = 0 AND a.reseller_id = 1");
        Assert.Equal(resellerOnDefault, (await _reseller.GetAsync("/api/settings/default-sip-profile/preview?sipProfileId=0")).Body.GetProperty("rulesChanging").GetInt64());

        var (forbidden, refusal) = await _reseller.SendAsync(HttpMethod.Put, "/api/settings/default-sip-profile", new { sipProfileId = 0 });
        Assert.Equal(HttpStatusCode.Forbidden, forbidden);
        Assert.Contains("only a key without ResellerId", refusal.GetProperty("detail").GetString(), StringComparison.Ordinal);
        foreach (var (body, message) in new (object, string)[]
                 {
                     (new { }, "sipProfileId is required"), (new { sipProfileId = 77 }, "sip profile 77 does not exist"),
                     (new { sipProfileId = 2 }, "sip profile 2 is inactive"), (new { sipProfileId = -1 }, "must be 0 (no default)"),
                 })
        {
            var (invalid, problem) = await _admin.SendAsync(HttpMethod.Put, "/api/settings/default-sip-profile", body);
            Assert.Equal(HttpStatusCode.BadRequest, invalid);
            Assert.Contains(message, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal("sipProfileId", problem.GetProperty("field").GetString());
        }

        Assert.Equal("1", await fixture.Database.ScalarAsync<string>("SELECT value FROM `system` WHERE name = 'ip_auth_default_sip_profile'"));
        Assert.Contains(("respond", "403 Forbidden"), Actions(await _server.FetchAsync(Call("192.0.2.10", "elsewhere"))));
        try
        {
            var (changed, impact) = await _admin.SendAsync(HttpMethod.Put, "/api/settings/default-sip-profile", new { sipProfileId = 0 });
            Assert.Equal(HttpStatusCode.OK, changed);
            Assert.Equal(onDefault, impact.GetProperty("rulesChanging").GetInt64());
            Assert.Equal(string.Empty, await fixture.Database.ScalarAsync<string>("SELECT value FROM `system` WHERE name = 'ip_auth_default_sip_profile'"));
            // Without a default, rule 1 applies on every profile, at once.
            Assert.Contains(("set", "accountcode=1000000001"), Actions(await _server.FetchAsync(Call("192.0.2.10", "elsewhere"))));
        }
        finally
        {
            Assert.Equal(HttpStatusCode.OK, (await _admin.SendAsync(HttpMethod.Put, "/api/settings/default-sip-profile", new { sipProfileId = 1 })).Status);
        }

        Assert.Contains(("respond", "403 Forbidden"), Actions(await _server.FetchAsync(Call("192.0.2.10", "elsewhere"))));
    }

    [Fact]
    public async Task A_missing_setting_row_is_created_when_the_default_is_changed()
    {
        await fixture.Database.ExecuteAsync("DELETE FROM `system` WHERE name = 'ip_auth_default_sip_profile'");
        await _server.ReloadAsync();
        try
        {
            var (_, current) = await _admin.GetAsync("/api/settings/default-sip-profile");
            Assert.Equal(0, current.GetProperty("sipProfileId").GetInt32());
            Assert.Equal(HttpStatusCode.OK, (await _admin.SendAsync(HttpMethod.Put, "/api/settings/default-sip-profile", new { sipProfileId = 1 })).Status);
            Assert.Equal("1", await fixture.Database.ScalarAsync<string>("SELECT value FROM `system` WHERE name = 'ip_auth_default_sip_profile' AND reseller_id = 0"));
            Assert.Equal("default", _server.Snapshot!.DefaultProfile);
        }
        finally
        {
            await fixture.Database.ExecuteAsync("DELETE FROM `system` WHERE name = 'ip_auth_default_sip_profile'");
            await fixture.Database.ExecuteAsync("INSERT INTO `system` (id, name, display_name, value, reseller_id, group_title, sub_group) VALUES (1, 'ip_auth_default_sip_profile', 'Default SIP profile for IP settings', '1', 0, 'fsdirectory', 'ip_auth')");
            await _server.ReloadAsync();
        }
    }

    [Fact]
    public async Task The_list_sorts_by_any_column_both_ways_and_refuses_an_unknown_sort()
    {
        var (status, byId) = await _admin.GetAsync("/api/ip-settings?sort=-id&pageSize=500");
        Assert.Equal(HttpStatusCode.OK, status);
        var ids = Ids(byId);
        Assert.Equal(ids.OrderDescending(), ids);

        var (_, byIp) = await _admin.GetAsync("/api/ip-settings?sort=ip&q=.&pageSize=500");
        var addresses = byIp.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("ip").GetString()!).Where(ip => ip.Contains('.', StringComparison.Ordinal) && !ip.Contains(':', StringComparison.Ordinal) && char.IsDigit(ip[0])).ToList();
        // Numeric order: 192.0.2.10 before 192.0.2.99 before 198.51.100.0 (a text sort would not put 9 before 10).
        Assert.True(addresses.IndexOf("192.0.2.10/32") < addresses.IndexOf("192.0.2.99/32"));
        Assert.True(addresses.IndexOf("192.0.2.99/32") < addresses.IndexOf("198.51.100.0/24"));
        Assert.True(addresses.IndexOf("198.51.100.0/24") < addresses.IndexOf("203.0.113.10/32"));

        var (_, byName) = await _admin.GetAsync("/api/ip-settings?sort=-name&pageSize=3");
        var expected = await NamesAsync("ORDER BY name DESC, id DESC LIMIT 3");
        Assert.Equal(expected, byName.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("name").GetString()!));

        var (_, first) = await _admin.GetAsync("/api/ip-settings/1");
        Assert.Equal("Contoso PBX", first.GetProperty("accountName").GetString());
        Assert.Equal("Northwind Reseller", first.GetProperty("resellerName").GetString());

        var (bad, problem) = await _admin.GetAsync("/api/ip-settings?sort=name;DROP");
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.Equal("sort", problem.GetProperty("field").GetString());
    }

    private async Task<string[]> NamesAsync(string order)
    {
        await using var connection = new MySqlConnector.MySqlConnection(fixture.Database.ConnectionString);
        return [.. await Dapper.SqlMapper.QueryAsync<string>(connection, "SELECT name FROM ip_map " + order)];
    }

    [Fact]
    public async Task The_cli_searches_accounts_switches_ip_only_and_shows_previews_and_changes_the_default_profile()
    {
        async Task<(int Exit, string Out, string Err)> Run(string key, params string[] args)
        {
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            var exit = await CliApp.RunAsync(["--url", _server.Address.ToString(), "--api-key", key, .. args], stdout, stderr);
            return (exit, stdout.ToString(), stderr.ToString());
        }

        var (exit, output, _) = await Run(AdminApiFixture.AdminKey, "accounts", "--search", "Tailspin");
        Assert.Equal(CliApp.Ok, exit);
        Assert.Contains("4\t1000000003\tcustomer\t0\tactive\tyes\tTailspin Trunking", output, StringComparison.Ordinal);

        (exit, output, _) = await Run(AdminApiFixture.AdminKey, "ip-only", "3", "on");
        Assert.Equal(CliApp.Ok, exit);
        Assert.Contains("\"ipOnly\": true", output, StringComparison.Ordinal);
        Assert.Equal(1, await fixture.Database.ScalarAsync<int>("SELECT sip_credentials_disabled FROM accounts WHERE id = 3"));
        Assert.Equal(CliApp.Ok, (await Run(AdminApiFixture.AdminKey, "ip-only", "3", "off")).Exit);
        Assert.Equal(0, await fixture.Database.ScalarAsync<int>("SELECT sip_credentials_disabled FROM accounts WHERE id = 3"));
        Assert.Equal(CliApp.Usage, (await Run(AdminApiFixture.AdminKey, "ip-only", "3", "maybe")).Exit);

        (exit, output, _) = await Run(AdminApiFixture.AdminKey, "default-profile");
        Assert.Equal(CliApp.Ok, exit);
        Assert.Contains("\"label\": \"default (id 1)\"", output, StringComparison.Ordinal);
        (exit, output, _) = await Run(AdminApiFixture.AdminKey, "default-profile", "preview", "0");
        Assert.Equal(CliApp.Ok, exit);
        Assert.Contains("\"rulesChanging\":", output, StringComparison.Ordinal);

        var (refused, _, error) = await Run(AdminApiFixture.ResellerKey, "default-profile", "set", "0");
        Assert.Equal(CliApp.Refused, refused);
        Assert.Contains("403 Forbidden", error, StringComparison.Ordinal);
        Assert.Equal("1", await fixture.Database.ScalarAsync<string>("SELECT value FROM `system` WHERE name = 'ip_auth_default_sip_profile'"));
    }
}
