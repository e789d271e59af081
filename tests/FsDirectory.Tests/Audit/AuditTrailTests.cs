using System.Net;
using System.Text.Json;
using FsDirectory.Cli;
using FsDirectory.Tests.Admin;
using FsDirectory.Tests.AdminConsole;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Audit;

/// <summary>Every kind of admin write leaves one record per changed row, with who, from where, and the values before and after.</summary>
public sealed class AuditTrailTests(AuditFixture fixture) : IClassFixture<AuditFixture>
{
    private readonly AdminClient _admin = fixture.Admin;

    private static object Rule(string ip, int accountId = 4, string name = "audited", string prefix = "") =>
        new { name, ip, accountId, prefix };

    /// <summary>The records GET /api/audit answers for these filters, newest first.</summary>
    private static async Task<JsonElement[]> RecordsAsync(AdminClient client, string query)
    {
        var (status, page) = await client.GetAsync("/api/audit?pageSize=500&" + query);
        Assert.True(status == HttpStatusCode.OK, page.ToString());
        return [.. page.GetProperty("items").EnumerateArray()];
    }

    private static async Task<JsonElement> OnlyRecordAsync(AdminClient client, string query) =>
        Assert.Single(await RecordsAsync(client, query));

    private static string? Text(JsonElement record, string side, string property) =>
        record.GetProperty(side).ValueKind == JsonValueKind.Null ? null : record.GetProperty(side).GetProperty(property).ToString();

    [Fact]
    public async Task Creating_a_rule_records_the_keys_name_the_client_address_and_the_rule_after_with_nothing_before()
    {
        var id = await _admin.CreateAsync(Rule("198.18.40.1"));

        var record = await OnlyRecordAsync(_admin, $"entity=ip_setting&id={id}");
        Assert.Equal("ops", record.GetProperty("key").GetString());
        Assert.Equal("127.0.0.1", record.GetProperty("from").GetString());
        Assert.Equal("api", record.GetProperty("via").GetString());
        Assert.Equal("create", record.GetProperty("action").GetString());
        Assert.Equal(4, record.GetProperty("accountId").GetInt32());
        Assert.Equal(0, record.GetProperty("resellerId").GetInt32());
        Assert.Equal(JsonValueKind.Null, record.GetProperty("before").ValueKind);
        Assert.Equal("198.18.40.1/32", Text(record, "after", "ip"));
        Assert.Equal("audited", Text(record, "after", "name"));
        Assert.Equal("0", Text(record, "after", "status"));
        Assert.True((DateTimeOffset.UtcNow - record.GetProperty("at").GetDateTimeOffset()).Duration() < TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Replacing_a_rule_records_its_values_before_and_after()
    {
        var id = await _admin.CreateAsync(Rule("198.18.41.1", name: "before"));
        var (status, body) = await _admin.SendAsync(HttpMethod.Put, $"/api/ip-settings/{id}", new { name = "after", ip = "198.18.41.2", accountId = 4, prefix = "77" });
        Assert.True(status == HttpStatusCode.OK, body.ToString());

        var record = await OnlyRecordAsync(_admin, $"entity=ip_setting&id={id}&action=replace");
        Assert.Equal("before", Text(record, "before", "name"));
        Assert.Equal("198.18.41.1/32", Text(record, "before", "ip"));
        Assert.Equal(string.Empty, Text(record, "before", "prefix"));
        Assert.Equal("after", Text(record, "after", "name"));
        Assert.Equal("198.18.41.2/32", Text(record, "after", "ip"));
        Assert.Equal("77", Text(record, "after", "prefix"));
    }

    [Fact]
    public async Task Deleting_a_rule_records_its_values_before_and_nothing_after()
    {
        var id = await _admin.CreateAsync(Rule("198.18.42.1", name: "doomed"));
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.SendAsync(HttpMethod.Delete, $"/api/ip-settings/{id}")).Status);

        var record = await OnlyRecordAsync(_admin, $"entity=ip_setting&id={id}&action=delete");
        Assert.Equal("doomed", Text(record, "before", "name"));
        Assert.Equal(JsonValueKind.Null, record.GetProperty("after").ValueKind);
    }

    [Fact]
    public async Task A_bulk_deactivate_activate_and_delete_record_one_row_per_rule_each_tied_by_its_own_request_id()
    {
        int[] ids = [await _admin.CreateAsync(Rule("198.18.43.1")), await _admin.CreateAsync(Rule("198.18.43.2")), await _admin.CreateAsync(Rule("198.18.43.3"))];
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsync("/api/ip-settings/status", new { ids, status = 1 })).Status);
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsync("/api/ip-settings/status", new { ids = ids[..2], status = 0 })).Status);
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsync("/api/ip-settings/delete", new { ids })).Status);

        var rows = (await fixture.RowsAsync()).Where(r => r.EntityId is { } id && ids.Contains((int)id) && r.Action != "create").ToList();
        var byAction = rows.GroupBy(r => r.Action).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(3, byAction["deactivate"].Count);
        Assert.Equal(2, byAction["activate"].Count);
        Assert.Equal(3, byAction["delete"].Count);
        Assert.All(byAction.Values, group => Assert.Single(group.Select(r => r.RequestId).Distinct()));
        Assert.Equal(3, rows.Select(r => r.RequestId).Distinct().Count());

        Assert.All(byAction["deactivate"], r =>
        {
            Assert.Equal(0, JsonDocument.Parse(r.BeforeJson!).RootElement.GetProperty("status").GetInt32());
            Assert.Equal(1, JsonDocument.Parse(r.AfterJson!).RootElement.GetProperty("status").GetInt32());
        });
        Assert.All(byAction["delete"], r => Assert.Null(r.AfterJson));

        // The request id finds the whole bulk action.
        var requestId = byAction["deactivate"][0].RequestId;
        Assert.Equal(3, (await RecordsAsync(_admin, $"requestId={requestId}")).Length);
    }

    [Fact]
    public async Task A_csv_import_records_one_row_per_created_rule_tied_by_one_request_id()
    {
        const string Csv = "name,ip,accountId,prefix\nimported one,198.18.44.1,4,\nimported two,198.18.44.2,2,99\n";
        var (status, result) = await _admin.SendAsync(HttpMethod.Post, "/api/ip-settings/import", Csv);
        Assert.True(status == HttpStatusCode.OK, result.ToString());
        var ids = result.GetProperty("ids").EnumerateArray().Select(i => (long)i.GetInt32()).ToList();

        var rows = (await fixture.RowsAsync()).Where(r => r.Action == "import" && ids.Contains(r.EntityId!.Value)).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Single(rows.Select(r => r.RequestId).Distinct());
        Assert.All(rows, r => Assert.Null(r.BeforeJson));
        var second = rows.Single(r => r.EntityId == ids[1]);
        Assert.Equal("imported two", JsonDocument.Parse(second.AfterJson!).RootElement.GetProperty("name").GetString());
        Assert.Equal(1, second.ResellerId);
        Assert.Equal(2, second.AccountId);
    }

    [Fact]
    public async Task A_large_import_and_bulk_delete_record_every_row_once()
    {
        // 123 rows: written as statements of 100, 10, 10 and three of 1.
        var csv = "name,ip,accountId\n" + string.Concat(Enumerable.Range(1, 123).Select(i => $"bulk {i},198.19.{i / 200}.{i % 200 + 1},4\n"));
        var (status, result) = await _admin.SendAsync(HttpMethod.Post, "/api/ip-settings/import", csv);
        Assert.True(status == HttpStatusCode.OK, result.ToString());
        var ids = result.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsync("/api/ip-settings/delete", new { ids })).Status);

        var rows = (await fixture.RowsAsync()).Where(r => r.Entity == "ip_setting" && ids.Contains((int)r.EntityId!.Value)).ToList();
        foreach (var action in new[] { "import", "delete" })
        {
            var ofAction = rows.Where(r => r.Action == action).ToList();
            Assert.Equal(ids.Order().Select(i => (long)i), ofAction.Select(r => r.EntityId!.Value).Order());
            Assert.Single(ofAction.Select(r => r.RequestId).Distinct());
        }

        var last = rows.Single(r => r.Action == "import" && r.EntityId == ids[^1]);
        Assert.Equal("bulk 123", JsonDocument.Parse(last.AfterJson!).RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Ip_only_records_the_accounts_switch_before_and_after()
    {
        Assert.Equal(HttpStatusCode.OK, (await _admin.SendAsync(HttpMethod.Put, "/api/accounts/3/ip-only", new { ipOnly = true })).Status);
        Assert.Equal(HttpStatusCode.OK, (await _admin.SendAsync(HttpMethod.Put, "/api/accounts/3/ip-only", new { ipOnly = false })).Status);

        var records = await RecordsAsync(_admin, "entity=account&id=3&action=ip_only");
        Assert.Equal(2, records.Length);
        // Newest first: the switch back.
        Assert.Equal("True", Text(records[0], "before", "ipOnly"));
        Assert.Equal("False", Text(records[0], "after", "ipOnly"));
        Assert.Equal("False", Text(records[1], "before", "ipOnly"));
        Assert.Equal("True", Text(records[1], "after", "ipOnly"));
        Assert.Equal(1, records[1].GetProperty("resellerId").GetInt32());
    }

    [Fact]
    public async Task Trusted_proxy_writes_are_recorded_with_their_values_and_no_reseller()
    {
        var (created, proxy) = await _admin.PostAsync("/api/trusted-proxies", new { name = "kamailio", ip = "198.18.45.1" });
        Assert.True(created == HttpStatusCode.Created, proxy.ToString());
        var id = proxy.GetProperty("id").GetInt32();
        Assert.Equal(HttpStatusCode.OK, (await _admin.SendAsync(HttpMethod.Put, $"/api/trusted-proxies/{id}", new { name = "opensips", ip = "198.18.45.2" })).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.SendAsync(HttpMethod.Delete, $"/api/trusted-proxies/{id}")).Status);

        var records = await RecordsAsync(_admin, $"entity=trusted_proxy&id={id}");
        Assert.Equal(["delete", "replace", "create"], records.Select(r => r.GetProperty("action").GetString()));
        Assert.Equal("198.18.45.1/32", Text(records[2], "after", "ip"));
        Assert.Equal("kamailio", Text(records[1], "before", "name"));
        Assert.Equal("opensips", Text(records[1], "after", "name"));
        Assert.Equal("opensips", Text(records[0], "before", "name"));
        Assert.Equal(JsonValueKind.Null, records[0].GetProperty("after").ValueKind);
        Assert.All(records, r => Assert.Equal(JsonValueKind.Null, r.GetProperty("resellerId").ValueKind));
    }

    [Fact]
    public async Task Changing_the_default_profile_records_the_setting_before_and_after()
    {
        var (status, body) = await _admin.SendAsync(HttpMethod.Put, "/api/settings/default-sip-profile", new { sipProfileId = 0 });
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal(HttpStatusCode.OK, (await _admin.SendAsync(HttpMethod.Put, "/api/settings/default-sip-profile", new { sipProfileId = 1 })).Status);

        var records = await RecordsAsync(_admin, "entity=default_sip_profile&action=set");
        Assert.Equal(2, records.Length);
        Assert.Equal("1", Text(records[1], "before", "setting"));
        Assert.Equal(string.Empty, Text(records[1], "after", "setting"));
        Assert.Equal("0", Text(records[1], "after", "sipProfileId"));
        Assert.Equal(string.Empty, Text(records[0], "before", "setting"));
        Assert.Equal("1", Text(records[0], "after", "setting"));
    }

    [Fact]
    public async Task A_console_bulk_action_is_recorded_as_coming_from_the_console_under_the_sessions_key_name()
    {
        var id = await _admin.CreateAsync(Rule("198.18.46.1"));
        using var console = new ConsoleClient(fixture.Server);
        using (var login = await console.LogInAsync(AuditFixture.ResellerKey))
        {
            Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        }

        var ruleOfReseller = await _admin.CreateAsync(Rule("198.18.46.2", accountId: 2));
        var token = await console.TokenAsync("/console/ip-settings");
        using var posted = await console.PostAsync("/console/ip-settings?handler=Deactivate",
            [new("ids", ruleOfReseller.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("__RequestVerificationToken", token)]);
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);

        var record = await OnlyRecordAsync(_admin, $"entity=ip_setting&id={ruleOfReseller}&action=deactivate");
        Assert.Equal("northwind", record.GetProperty("key").GetString());
        Assert.Equal("console", record.GetProperty("via").GetString());
        Assert.Equal("127.0.0.1", record.GetProperty("from").GetString());
        Assert.Empty(await RecordsAsync(_admin, $"entity=ip_setting&id={id}&action=deactivate"));
    }

    [Fact]
    public async Task A_forwarded_client_address_from_a_known_proxy_is_recorded_and_a_forged_one_from_elsewhere_is_not()
    {
        using var viaProxy = new HttpClient { BaseAddress = fixture.Server.Address };
        viaProxy.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.77");
        var proxied = await new AdminClient(viaProxy, AuditFixture.AdminKey).CreateAsync(Rule("198.18.47.1"));

        using var forging = new HttpClient { BaseAddress = fixture.ProxyElsewhere.Address };
        forging.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.78");
        var forged = await new AdminClient(forging, AuditFixture.AdminKey).CreateAsync(Rule("198.18.47.2"));

        Assert.Equal("203.0.113.77", (await OnlyRecordAsync(_admin, $"entity=ip_setting&id={proxied}")).GetProperty("from").GetString());
        Assert.Equal("127.0.0.1", (await OnlyRecordAsync(_admin, $"entity=ip_setting&id={forged}")).GetProperty("from").GetString());
    }

    [Fact]
    public async Task Fsdir_audit_prints_the_records_of_an_fsdir_write_one_a_line_with_its_filters()
    {
        async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
        {
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            var exit = await CliApp.RunAsync(["--url", fixture.Server.Address.ToString(), "--api-key", AuditFixture.AdminKey, .. args], stdout, stderr);
            return (exit, stdout.ToString(), stderr.ToString());
        }

        var (added, body, addErr) = await RunAsync("add", "--name", "from fsdir", "--ip", "198.18.49.1", "--account", "4");
        Assert.True(added == CliApp.Ok, addErr);
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(CliApp.Ok, (await RunAsync("disable", id)).Exit);

        var (exit, output, err) = await RunAsync("audit", "--entity", "ip_setting", "--id", id);
        Assert.True(exit == CliApp.Ok, err);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("at\tkey\tfrom\tvia\tentity\tid\taction\trequest\tbefore\tafter", lines[0]);
        Assert.Equal(3, lines.Length);
        var newest = lines[1].Split('\t');
        Assert.Equal(["ops", "127.0.0.1", "api", "ip_setting", id, "deactivate"], newest[1..7]);
        Assert.Contains("\"status\":0", newest[8], StringComparison.Ordinal);
        Assert.Contains("\"status\":1", newest[9], StringComparison.Ordinal);
        Assert.Equal("-", lines[2].Split('\t')[8]);
        Assert.Contains("2 of 2 record(s)", err, StringComparison.Ordinal);

        (exit, _, err) = await RunAsync("audit", "--entity", "rules");
        Assert.Equal(CliApp.Refused, exit);
        Assert.Contains("400 Invalid audit query: entity must be one of", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_key_itself_is_never_stored_only_its_name()
    {
        await _admin.CreateAsync(Rule("198.18.48.1"));
        await fixture.Reseller.CreateAsync(Rule("198.18.48.2", accountId: 2));
        foreach (var key in new[] { AuditFixture.AdminKey, AuditFixture.ResellerKey })
        {
            Assert.Equal(0L, await fixture.Database.ScalarAsync<long>(
                "SELECT COUNT(*) FROM fsdir_audit WHERE CONCAT_WS('|', request_id, key_name, client_address, via, entity, action, before_json, after_json) LIKE @pattern",
                new { pattern = "%" + key + "%" }));
        }
    }
}
