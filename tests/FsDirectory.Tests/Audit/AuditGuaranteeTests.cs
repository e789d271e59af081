using System.Net;
using System.Text.Json;
using FsDirectory.Tests.Admin;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Audit;

/// <summary>A change and its record commit together or not at all; concurrent writes get one record each; scope, paging and retention.</summary>
public sealed class AuditGuaranteeTests(AuditFixture fixture) : IClassFixture<AuditFixture>
{
    private readonly AdminClient _admin = fixture.Admin;

    private static object Rule(string ip, int accountId = 4, string name = "guarded") => new { name, ip, accountId };

    private async Task AssertNothingRecordedAsync(Func<Task<HttpStatusCode>> write, HttpStatusCode expected)
    {
        var before = await fixture.CountAsync();
        var rules = await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map");
        Assert.Equal(expected, await write());
        Assert.Equal(before, await fixture.CountAsync());
        Assert.Equal(rules, await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map"));
    }

    [Fact]
    public async Task A_write_refused_with_409_leaves_no_record()
    {
        await _admin.CreateAsync(Rule("198.18.50.1"));
        await AssertNothingRecordedAsync(async () => (await _admin.PostAsync("/api/ip-settings", Rule("198.18.50.1"))).Status, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_write_refused_by_validation_leaves_no_record()
    {
        await AssertNothingRecordedAsync(async () => (await _admin.PostAsync("/api/ip-settings", Rule("not-an-address"))).Status, HttpStatusCode.BadRequest);
        await AssertNothingRecordedAsync(async () => (await _admin.SendAsync(HttpMethod.Put, "/api/accounts/2/ip-only", new { })).Status, HttpStatusCode.BadRequest);
        await AssertNothingRecordedAsync(async () => (await _admin.SendAsync(HttpMethod.Put, "/api/settings/default-sip-profile", new { sipProfileId = 999 })).Status, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_rolled_back_bulk_action_leaves_no_record_for_the_rules_it_had_already_locked()
    {
        var id = await _admin.CreateAsync(Rule("198.18.51.1"));
        await AssertNothingRecordedAsync(async () => (await _admin.PostAsync("/api/ip-settings/status", new { ids = new[] { id, 999_999 }, status = 1 })).Status, HttpStatusCode.NotFound);
        await AssertNothingRecordedAsync(async () => (await _admin.PostAsync("/api/ip-settings/delete", new { ids = new[] { id, 999_998 } })).Status, HttpStatusCode.NotFound);
        Assert.Equal(0, await fixture.Database.ScalarAsync<int>("SELECT status FROM ip_map WHERE id = @id", new { id }));
    }

    [Fact]
    public async Task An_import_with_one_bad_line_leaves_no_record_and_no_rule()
    {
        const string Csv = "name,ip,accountId\ngood one,198.18.52.1,4\ngood two,198.18.52.2,4\nbad,198.18.52.3,999\n";
        await AssertNothingRecordedAsync(async () => (await _admin.SendAsync(HttpMethod.Post, "/api/ip-settings/import", Csv)).Status, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_record_the_database_refuses_rolls_the_change_back_with_it()
    {
        // The audit insert fails inside the write's transaction: the rule it recorded must not be created either.
        await fixture.Database.ExecuteAsync("""
            CREATE TRIGGER fsdir_test_refuse_audit BEFORE INSERT ON fsdir_audit FOR EACH ROW
              IF NEW.after_json LIKE '%audit-refused%' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'test: audit insert refused'; END IF
            """);
        try
        {
            await AssertNothingRecordedAsync(
                async () => (await _admin.PostAsync("/api/ip-settings", Rule("198.18.53.1", name: "audit-refused"))).Status,
                HttpStatusCode.ServiceUnavailable);
            Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map WHERE ip = '198.18.53.1/32'"));
        }
        finally
        {
            await fixture.Database.ExecuteAsync("DROP TRIGGER fsdir_test_refuse_audit");
        }
    }

    [Fact]
    public async Task Concurrent_writes_each_get_exactly_one_record()
    {
        var created = await Task.WhenAll(Enumerable.Range(1, 12).Select(i => _admin.CreateAsync(Rule($"198.18.54.{i}"))));
        var target = created[0];
        // Concurrent flips of one rule: each request that succeeded has exactly one record.
        var flips = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => _admin.PostAsync("/api/ip-settings/status", new { ids = new[] { target }, status = i % 2 })));
        Assert.All(flips, f => Assert.Equal(HttpStatusCode.OK, f.Status));

        var rows = await fixture.RowsAsync();
        foreach (var id in created)
        {
            Assert.Single(rows, r => r.Entity == "ip_setting" && r.EntityId == id && r.Action == "create");
        }

        var flipRows = rows.Where(r => r.EntityId == target && r.Action is "activate" or "deactivate").ToList();
        Assert.Equal(10, flipRows.Count);
        Assert.Equal(10, flipRows.Select(r => r.RequestId).Distinct().Count());
    }

    [Fact]
    public async Task A_reseller_key_sees_only_the_records_of_its_own_resellers_accounts()
    {
        var ofReseller1 = await _admin.CreateAsync(Rule("198.18.55.1", accountId: 2));
        var ofOperator = await _admin.CreateAsync(Rule("198.18.55.2", accountId: 4));
        var ofReseller9 = await _admin.CreateAsync(Rule("198.18.55.3", accountId: 31));
        var (proxyStatus, _) = await _admin.PostAsync("/api/trusted-proxies", new { name = "scope", ip = "198.18.55.4" });
        Assert.Equal(HttpStatusCode.Created, proxyStatus);
        var byReseller = await fixture.Reseller.CreateAsync(Rule("198.18.55.5", accountId: 3));

        async Task<HashSet<int?>> ResellersSeenAsync(AdminClient client)
        {
            var (status, page) = await client.GetAsync("/api/audit?pageSize=500");
            Assert.Equal(HttpStatusCode.OK, status);
            return [.. page.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("resellerId").ValueKind == JsonValueKind.Null ? (int?)null : r.GetProperty("resellerId").GetInt32())];
        }

        Assert.Equal([1], await ResellersSeenAsync(fixture.Reseller));
        Assert.Equal([9], await ResellersSeenAsync(fixture.OtherReseller));
        Assert.Equal(new HashSet<int?> { 0, 1, 9, null }, await ResellersSeenAsync(_admin));

        // Asking for a record of another reseller's rule by id finds nothing, as for the rule itself.
        Assert.Equal(0, (await fixture.Reseller.GetAsync($"/api/audit?entity=ip_setting&id={ofReseller9}")).Body.GetProperty("total").GetInt64());
        Assert.Equal(0, (await fixture.Reseller.GetAsync($"/api/audit?entity=ip_setting&id={ofOperator}")).Body.GetProperty("total").GetInt64());
        Assert.Equal(0, (await fixture.Reseller.GetAsync("/api/audit?entity=trusted_proxy")).Body.GetProperty("total").GetInt64());
        Assert.Equal(1, (await fixture.Reseller.GetAsync($"/api/audit?entity=ip_setting&id={ofReseller1}")).Body.GetProperty("total").GetInt64());
        Assert.Equal(1, (await fixture.Reseller.GetAsync($"/api/audit?key=northwind&id={byReseller}")).Body.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task The_api_filters_by_key_entity_id_action_and_time_range_and_pages_newest_first()
    {
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        int[] ids = [await _admin.CreateAsync(Rule("198.18.56.1")), await _admin.CreateAsync(Rule("198.18.56.2")), await _admin.CreateAsync(Rule("198.18.56.3"))];
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsync("/api/ip-settings/status", new { ids, status = 1 })).Status);
        var byReseller = await fixture.Reseller.CreateAsync(Rule("198.18.56.4", accountId: 2));
        var from = Uri.EscapeDataString(since.ToString("O"));

        var (status, first) = await _admin.GetAsync($"/api/audit?key=ops&entity=ip_setting&action=create&from={from}&pageSize=2");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(first.GetProperty("total").GetInt64() >= 3);
        Assert.Equal(2, first.GetProperty("items").GetArrayLength());
        var newest = first.GetProperty("items")[0];
        Assert.Equal(ids[2], newest.GetProperty("entityId").GetInt64());
        var second = (await _admin.GetAsync($"/api/audit?key=ops&entity=ip_setting&action=create&from={from}&pageSize=2&page=2")).Body;
        Assert.Equal(2, second.GetProperty("page").GetInt32());
        Assert.Equal(ids[0], second.GetProperty("items")[0].GetProperty("entityId").GetInt64());

        Assert.Equal(1, (await _admin.GetAsync($"/api/audit?id={ids[1]}&action=deactivate")).Body.GetProperty("total").GetInt64());
        Assert.Equal(1, (await _admin.GetAsync($"/api/audit?key=northwind&id={byReseller}&from={from}")).Body.GetProperty("total").GetInt64());
        Assert.Equal(0, (await _admin.GetAsync($"/api/audit?key=ops&id={byReseller}")).Body.GetProperty("total").GetInt64());
        var future = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"));
        Assert.Equal(0, (await _admin.GetAsync($"/api/audit?from={future}")).Body.GetProperty("total").GetInt64());
        Assert.Equal(0, (await _admin.GetAsync($"/api/audit?to={from}&id={ids[0]}")).Body.GetProperty("total").GetInt64());

        var (bad, problem) = await _admin.GetAsync("/api/audit?entity=rules");
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.Equal("entity", problem.GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.GetAsync("/api/audit?pageSize=501")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await new AdminClient(fixture.Server, null).GetAsync("/api/audit")).Status);
    }

    [Fact]
    public async Task Retention_deletes_the_records_older_than_the_setting_and_keeps_the_rest()
    {
        // Audit:Retention is ten days in this fixture, trimmed every second, two rows per batch.
        await fixture.Database.ExecuteAsync("""
            INSERT INTO fsdir_audit (request_id, changed_at, key_name, via, entity, entity_id, action, reseller_id) VALUES
              ('retention-old', UTC_TIMESTAMP(6) - INTERVAL 400 DAY, 'retention', 'api', 'ip_setting', 1, 'replace', 0),
              ('retention-old', UTC_TIMESTAMP(6) - INTERVAL 11 DAY, 'retention', 'api', 'ip_setting', 1, 'replace', 0),
              ('retention-old', UTC_TIMESTAMP(6) - INTERVAL 11 DAY, 'retention', 'api', 'ip_setting', 2, 'replace', 0),
              ('retention-old', UTC_TIMESTAMP(6) - INTERVAL 10 DAY - INTERVAL 1 HOUR, 'retention', 'api', 'ip_setting', 3, 'replace', 0),
              ('retention-old', UTC_TIMESTAMP(6) - INTERVAL 10 DAY - INTERVAL 1 MINUTE, 'retention', 'api', 'ip_setting', 4, 'replace', 1),
              ('retention-kept', UTC_TIMESTAMP(6) - INTERVAL 9 DAY - INTERVAL 23 HOUR, 'retention', 'api', 'ip_setting', 5, 'replace', 0),
              ('retention-kept', UTC_TIMESTAMP(6) - INTERVAL 1 DAY, 'retention', 'api', 'ip_setting', 6, 'replace', 0);
            """);

        for (var i = 0; i < 200 && await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM fsdir_audit WHERE request_id = 'retention-old'") > 0; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM fsdir_audit WHERE request_id = 'retention-old'"));
        Assert.Equal(2L, await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM fsdir_audit WHERE request_id = 'retention-kept'"));
    }
}
