using System.Net;
using System.Text.Json;
using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Admin;

public sealed class AdminApiFixture : DemoServerFixture
{
    public const string AdminKey = "admin-key-0123456789-abcdef";
    public const string ResellerKey = "reseller1-key-0123456789-abc";
    public const string OtherResellerKey = "reseller9-key-0123456789-xyz";

    protected override IDictionary<string, string?> Settings =>
        AdminKeys.Settings((AdminKey, "ops", null), (ResellerKey, "northwind", 1), (OtherResellerKey, "other", 9));

    // Rows a DBA inserted by hand, bypassing the API's checks: the problems report must find them.
    protected override Task SeedAsync(TestDatabase database) => database.ExecuteAsync(
        """
        INSERT INTO accounts (id, number, reseller_id, pricelist_id, status, type, deleted) VALUES
          (30, '3000000030', 1, 1, 0, 0, 1), (31, '3000000031', 9, 1, 0, 0, 0), (9, '5000000009', 0, 1, 0, 1, 0);
        INSERT INTO sip_profiles (id, name, sip_ip, sip_port, profile_data, status) VALUES (2, 'retired', '', '5070', '{}', 1);
        INSERT INTO ip_map (id, name, ip, accountid, reseller_id, sip_profile_id, prefix, context, status) VALUES
          (40, 'first', '198.18.9.0/24', 2, 1, 0, '55', 'default', 0),
          (41, 'tie', '198.18.9.0/24', 3, 1, 0, '55', 'default', 0),
          (42, 'same account again', '198.18.9.7/24', 2, 1, 0, '55', 'default', 0),
          (43, 'by name', 'sbc.example.com', 2, 1, 0, '', 'default', 0),
          (44, 'explicit profile', '198.18.10.0/24', 3, 1, 1, '', 'default', 0),
          (45, 'default profile', '198.18.10.0/24', 2, 1, 0, '', 'default', 0),
          (46, 'other reseller', '198.18.11.0/24', 31, 9, 0, '', 'default', 0);
        """);
}

public sealed class IpSettingsApiTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    private readonly FsDirectoryServer _server = fixture.Server;
    private readonly AdminClient _admin = new(fixture.Server, AdminApiFixture.AdminKey);
    private readonly AdminClient _reseller = new(fixture.Server, AdminApiFixture.ResellerKey);
    private readonly AdminClient _other = new(fixture.Server, AdminApiFixture.OtherResellerKey);

    private static FreeSwitchForm Call(string source, string number = "+12066418000") =>
        FreeSwitchForm.Load("dialplan-plus-number")
            .With("Caller-Network-Addr", source).With("Hunt-Network-Addr", source)
            .With("Caller-Destination-Number", number).With("Hunt-Destination-Number", number)
            .With("variable_sofia_profile_name", "default");

    private static object Rule(string ip, int accountId = 4, string name = "test rule", string prefix = "", int? sipProfileId = null) =>
        new { name, ip, accountId, prefix, sipProfileId };

    private Task<long> CountAsync() => fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map");

    [Fact]
    public async Task A_rule_created_through_the_api_is_honoured_by_the_dialplan_right_after_the_response()
    {
        var before = await _server.FetchAsync(Call("198.18.0.77"));
        Assert.Contains(("respond", "403 Forbidden"), Actions(before));

        var id = await _admin.CreateAsync(Rule("198.18.0.77", accountId: 4));

        var after = await _server.FetchAsync(Call("198.18.0.77"));
        Assert.Contains(("transfer", "+12066418000 XML default"), Actions(after));
        Assert.Contains(("set", "accountcode=1000000003"), Actions(after));
        Assert.Contains(("set", $"fsdir_ip_rule_id={id}"), Actions(after));

        var (status, _) = await _admin.PostAsync("/api/ip-settings/status", new { ids = new[] { id }, status = 1 });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(("respond", "403 Forbidden"), Actions(await _server.FetchAsync(Call("198.18.0.77"))));

        await _admin.PostAsync("/api/ip-settings/status", new { ids = new[] { id }, status = 0 });
        Assert.Contains(("set", "accountcode=1000000003"), Actions(await _server.FetchAsync(Call("198.18.0.77"))));

        (status, _) = await _admin.SendAsync(HttpMethod.Delete, $"/api/ip-settings/{id}");
        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.Contains(("respond", "403 Forbidden"), Actions(await _server.FetchAsync(Call("198.18.0.77"))));
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync($"/api/ip-settings/{id}")).Status);
    }

    [Fact]
    public async Task Writes_append_their_rows_to_the_change_feed_the_snapshot_and_the_switches_follow()
    {
        var id = await _admin.CreateAsync(Rule("198.18.0.78"));
        await _admin.SendAsync(HttpMethod.Delete, $"/api/ip-settings/{id}");
        var kinds = await fixture.Database.ScalarAsync<string>(
            "SELECT GROUP_CONCAT(change_kind ORDER BY id SEPARATOR '') FROM fsdir_change_feed WHERE table_name = 'ip_map' AND row_id = @id", new { id });
        Assert.Equal("ID", kinds);
    }

    [Theory]
    [InlineData("198.18.1.5/24", "198.18.1.0/24")]
    [InlineData(" 198.18.1.9 ", "198.18.1.9/32")]
    [InlineData("2001:DB8:7::1", "2001:db8:7::1/128")]
    [InlineData("2001:db8:8::77/48", "2001:db8:8::/48")]
    [InlineData("::ffff:198.18.2.0/120", "198.18.2.0/24")]
    public async Task Addresses_are_stored_canonically(string given, string stored)
    {
        var id = await _admin.CreateAsync(Rule(given, prefix: "9" + given.Length));
        var (status, json) = await _admin.GetAsync($"/api/ip-settings/{id}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(stored, json.GetProperty("ip").GetString());
        Assert.Equal(stored, await fixture.Database.ScalarAsync<string>("SELECT ip FROM ip_map WHERE id = @id", new { id }));
        await _admin.SendAsync(HttpMethod.Delete, $"/api/ip-settings/{id}");
    }

    public static TheoryData<string, string, string> InvalidBodies => new()
    {
        { """{"ip":"198.18.3.1","accountId":4}""", "name", "name is required" },
        { """{"name":"   ","ip":"198.18.3.1","accountId":4}""", "name", "name is required" },
        { """{"name":"123456789012345678901","ip":"198.18.3.1","accountId":4}""", "name", "name is 21 characters long; at most 20 are allowed" },
        { """{"name":"n","accountId":4}""", "ip", "ip is required" },
        { """{"name":"n","ip":"sbc.example.com","accountId":4}""", "ip", "ip 'sbc.example.com' is a hostname; hostnames are not resolved" },
        { """{"name":"n","ip":"198.18.3.256","accountId":4}""", "ip", "ip '198.18.3.256' is not an IPv4 or IPv6 address or CIDR network" },
        { """{"name":"n","ip":"198.18.3.0/33","accountId":4}""", "ip", "prefix length /33 is longer than /32" },
        { """{"name":"n","ip":"10.1","accountId":4}""", "ip", "ip '10.1' is not an IPv4 or IPv6 address" },
        { """{"name":"n","ip":"fe80::1%eth0","accountId":4}""", "ip", "zone ids are not accepted" },
        { """{"name":"n","ip":"198.18.3.1","accountId":4,"prefix":"123456789012345678901"}""", "prefix", "prefix is 21 characters long; at most 20 are allowed" },
        { """{"name":"n","ip":"198.18.3.1","accountId":4,"prefix":"12%"}""", "prefix", "prefix '12%' has the character '%'; only 0-9 A-Z a-z * # + - . are allowed" },
        { """{"name":"n","ip":"198.18.3.1","accountId":4,"prefix":"1 2"}""", "prefix", "has the character ' '" },
        { """{"name":"n","ip":"198.18.3.1"}""", "accountId", "accountId is required" },
        { """{"name":"n","ip":"198.18.3.1","accountId":999}""", "accountId", "account 999 does not exist" },
        { """{"name":"n","ip":"198.18.3.1","accountId":30}""", "accountId", "account 30 is deleted" },
        { """{"name":"n","ip":"198.18.3.1","accountId":1}""", "accountId", "account 1 is a reseller account; IP settings belong to customers (type 0) or providers (type 3)" },
        { """{"name":"n","ip":"198.18.3.1","accountId":4,"resellerId":1}""", "resellerId", "account 4 belongs to reseller 0, not to reseller 1" },
        { """{"name":"n","ip":"198.18.3.1","accountId":4,"sipProfileId":77}""", "sipProfileId", "sip profile 77 does not exist" },
        { """{"name":"n","ip":"198.18.3.1","accountId":4,"sipProfileId":2}""", "sipProfileId", "sip profile 2 is inactive" },
        { """{"name":"n","ip":"198.18.3.1","accountId":4,"sipProfileId":-1}""", "sipProfileId", "sipProfileId must be 0" },
        { """{"name":"n","ip":"198.18.3.1","accountId":4,"context":"bad context"}""", "context", "context 'bad context' must be 1-20 characters" },
        { """{"name":"n","ip":"198.18.3.1","accountId":4,"context":"${x}"}""", "context", "must be 1-20 characters of A-Z a-z 0-9 . _ -" },
        { """{"name":"n","ip":"198.18.3.1","accountId":4,"status":2}""", "status", "status must be 0 (active) or 1 (inactive)" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Every_invalid_field_is_refused_with_a_precise_problem_and_nothing_is_stored(string body, string field, string message)
    {
        var count = await CountAsync();
        var (status, json) = await _admin.PostAsync("/api/ip-settings", JsonDocument.Parse(body).RootElement);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(message, json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(field, json.GetProperty("field").GetString());
        Assert.Equal(400, json.GetProperty("status").GetInt32());
        Assert.Equal(count, await CountAsync());
    }

    [Fact]
    public async Task Replacing_with_invalid_data_is_refused_and_leaves_the_rule_as_it_was()
    {
        var id = await _admin.CreateAsync(Rule("198.18.4.1", name: "keep me"));
        var (status, json) = await _admin.SendAsync(HttpMethod.Put, $"/api/ip-settings/{id}", new { name = "changed", ip = "pbx.example.net", accountId = 4 });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("hostname", json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("keep me", (await _admin.GetAsync($"/api/ip-settings/{id}")).Body.GetProperty("name").GetString());

        (status, json) = await _admin.SendAsync(HttpMethod.Put, $"/api/ip-settings/{id}", new { name = "changed", ip = "198.18.4.2", accountId = 5, prefix = "77" });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("198.18.4.2/32", json.GetProperty("ip").GetString());
        Assert.Equal(5, json.GetProperty("accountId").GetInt32());
        Assert.Contains(("set", "accountcode=9000000001"), Actions(await _server.FetchAsync(Call("198.18.4.2", "77123"))));
        await _admin.SendAsync(HttpMethod.Delete, $"/api/ip-settings/{id}");
    }

    [Fact]
    public async Task A_rule_with_the_same_network_prefix_and_profile_conflicts_with_the_existing_one()
    {
        var count = await CountAsync();
        var (status, json) = await _admin.PostAsync("/api/ip-settings", Rule("192.0.2.10", accountId: 3, name: "dup"));
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("IP setting 1 already has network 192.0.2.10/32, prefix '' and sip profile 0", json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, json.GetProperty("existingId").GetInt32());
        Assert.Equal(count, await CountAsync());

        // Another prefix or another profile is a different rule.
        var other = await _admin.CreateAsync(Rule("192.0.2.10", accountId: 3, prefix: "4711"));
        var (updateStatus, _) = await _admin.SendAsync(HttpMethod.Put, $"/api/ip-settings/{other}", Rule("192.0.2.10", accountId: 3));
        Assert.Equal(HttpStatusCode.Conflict, updateStatus);
        await _admin.SendAsync(HttpMethod.Delete, $"/api/ip-settings/{other}");
    }

    [Fact]
    public async Task Concurrent_creates_of_one_network_prefix_and_profile_store_exactly_one_rule()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _admin.PostAsync("/api/ip-settings", Rule("198.18.60.0/24", prefix: "61"))));

        var created = Assert.Single(results, static r => r.Status == HttpStatusCode.Created);
        var id = created.Body.GetProperty("id").GetInt32();
        Assert.All(results.Where(static r => r.Status != HttpStatusCode.Created), r =>
        {
            Assert.Equal(HttpStatusCode.Conflict, r.Status);
            Assert.Equal(id, r.Body.GetProperty("existingId").GetInt32());
        });
        Assert.Equal(1, await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map WHERE ip = '198.18.60.0/24'"));
        await _admin.SendAsync(HttpMethod.Delete, $"/api/ip-settings/{id}");
    }

    [Fact]
    public async Task The_unique_rule_key_refuses_a_duplicate_even_where_the_read_check_misses_it()
    {
        // What a concurrent insert on another Galera node looks like from here: a row the read check
        // (same prefix column) does not find, holding the key of the rule being created.
        await fixture.Database.ExecuteAsync(
            "INSERT INTO ip_map (id, name, ip, accountid, reseller_id, prefix, context, status, fsdir_rule_key) VALUES (60, 'keyed', '198.18.61.0/24', 2, 1, 'x', 'default', 1, '198.18.61.0/24|62|0')");
        try
        {
            var (status, json) = await _admin.PostAsync("/api/ip-settings", Rule("198.18.61.0/24", prefix: "62"));

            Assert.Equal(HttpStatusCode.Conflict, status);
            Assert.Equal(60, json.GetProperty("existingId").GetInt32());
            Assert.Equal(1, await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map WHERE ip = '198.18.61.0/24'"));
        }
        finally
        {
            await fixture.Database.ExecuteAsync("DELETE FROM ip_map WHERE id = 60");
        }
    }

    [Fact]
    public async Task A_plain_sql_edit_of_a_rules_network_frees_the_old_network_for_the_api()
    {
        var id = await _admin.CreateAsync(Rule("198.18.62.0/24", prefix: "63"));
        await fixture.Database.ExecuteAsync("UPDATE ip_map SET ip = '198.18.63.0/24' WHERE id = @id", new { id });

        Assert.Equal(1, await fixture.Database.ScalarAsync<long>("SELECT fsdir_rule_key IS NULL FROM ip_map WHERE id = @id", new { id }));
        var again = await _admin.CreateAsync(Rule("198.18.62.0/24", prefix: "63"));
        await _admin.PostAsync("/api/ip-settings/delete", new { ids = new[] { id, again } });
    }

    [Fact]
    public async Task Unknown_ids_get_404_problem_details()
    {
        var (status, json) = await _admin.GetAsync("/api/ip-settings/987654");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("IP setting 987654 not found", json.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.SendAsync(HttpMethod.Put, "/api/ip-settings/987654", Rule("198.18.5.1"))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.SendAsync(HttpMethod.Delete, "/api/ip-settings/987654")).Status);
    }

    [Fact]
    public async Task A_reseller_key_cannot_read_change_or_delete_another_resellers_rule()
    {
        // Rule 1 belongs to account 2 of reseller 1; the key of reseller 9 must not see it at all.
        Assert.Equal(HttpStatusCode.NotFound, (await _other.GetAsync("/api/ip-settings/1")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _other.SendAsync(HttpMethod.Put, "/api/ip-settings/1", Rule("192.0.2.10", accountId: 31))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _other.SendAsync(HttpMethod.Delete, "/api/ip-settings/1")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _other.PostAsync("/api/ip-settings/status", new { ids = new List<int> { 1 }, status = 1 })).Status);
        var (createStatus, createJson) = await _other.PostAsync("/api/ip-settings", Rule("198.18.6.1", accountId: 2));
        Assert.Equal(HttpStatusCode.BadRequest, createStatus);
        Assert.Equal("account 2 does not exist", createJson.GetProperty("detail").GetString());

        var (_, rule1) = await _admin.GetAsync("/api/ip-settings/1");
        Assert.Equal(0, rule1.GetProperty("status").GetInt32());
        Assert.Equal("192.0.2.10/32", rule1.GetProperty("ip").GetString());

        var (listStatus, list) = await _other.GetAsync("/api/ip-settings?pageSize=500");
        Assert.Equal(HttpStatusCode.OK, listStatus);
        Assert.All(list.GetProperty("items").EnumerateArray(), r => Assert.Equal(9, r.GetProperty("resellerId").GetInt32()));
        Assert.Contains(list.GetProperty("items").EnumerateArray(), r => r.GetProperty("id").GetInt32() == 46);

        var (_, mine) = await _reseller.GetAsync("/api/ip-settings?pageSize=500");
        Assert.Contains(mine.GetProperty("items").EnumerateArray(), r => r.GetProperty("id").GetInt32() == 1);
        Assert.DoesNotContain(mine.GetProperty("items").EnumerateArray(), r => r.GetProperty("id").GetInt32() is 3 or 6 or 46);
    }

    [Fact]
    public async Task Bulk_delete_with_one_invisible_id_changes_nothing()
    {
        var a = await _reseller.CreateAsync(Rule("198.18.7.1", accountId: 2));
        var b = await _reseller.CreateAsync(Rule("198.18.7.2", accountId: 3));
        var count = await CountAsync();

        // Rule 6 belongs to a provider without reseller: invisible to reseller 1's key.
        var (status, json) = await _reseller.PostAsync("/api/ip-settings/delete", new { ids = new[] { a, b, 6 } });
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("6", json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(count, await CountAsync());

        (status, json) = await _reseller.PostAsync("/api/ip-settings/delete", new { ids = new[] { a, b } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, json.GetProperty("count").GetInt32());
        Assert.Equal(count - 2, await CountAsync());
        Assert.Contains(("respond", "403 Forbidden"), Actions(await _server.FetchAsync(Call("198.18.7.1"))));
    }

    [Fact]
    public async Task Bulk_status_with_one_missing_id_changes_nothing()
    {
        var a = await _admin.CreateAsync(Rule("198.18.8.1"));
        var b = await _admin.CreateAsync(Rule("198.18.8.2"));

        var (status, _) = await _admin.PostAsync("/api/ip-settings/status", new { ids = new[] { a, b, 999999 }, status = 1 });
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT COALESCE(SUM(status), 0) FROM ip_map WHERE id IN (@a, @b)", new { a, b }));

        var (badStatus, badJson) = await _admin.PostAsync("/api/ip-settings/status", new { ids = new[] { a }, status = 5 });
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.Equal("status must be 0 (active) or 1 (inactive)", badJson.GetProperty("detail").GetString());

        (status, _) = await _admin.PostAsync("/api/ip-settings/status", new { ids = new[] { a, b }, status = 1 });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2L, await fixture.Database.ScalarAsync<long>("SELECT SUM(status) FROM ip_map WHERE id IN (@a, @b)", new { a, b }));
        Assert.Contains(("respond", "403 Forbidden"), Actions(await _server.FetchAsync(Call("198.18.8.2"))));
        await _admin.PostAsync("/api/ip-settings/delete", new { ids = new[] { a, b } });
    }

    [Fact]
    public async Task A_csv_import_with_one_bad_line_imports_nothing_and_names_the_line()
    {
        var count = await CountAsync();
        const string Csv = "name,ip,accountId,prefix,sipProfileId,context,status\n"
            + "csv one,198.18.12.1,4,,0,default,0\n"
            + "\"csv, two\",198.18.12.0/24,5,88,1,default,0\n"
            + "csv three,pbx.example.org,4,,0,default,0\n";
        var (status, json) = await _admin.SendAsync(HttpMethod.Post, "/api/ip-settings/import", Csv);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("line 4: ip 'pbx.example.org' is a hostname", json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(4, json.GetProperty("line").GetInt32());
        Assert.Equal(count, await CountAsync());

        // Duplicates inside the file are caught too: the second line conflicts with the first.
        (status, json) = await _admin.SendAsync(HttpMethod.Post, "/api/ip-settings/import", "name,ip,accountId\na,198.18.13.1,4\nb,198.18.13.1/32,5\n");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal(3, json.GetProperty("line").GetInt32());
        Assert.Equal(count, await CountAsync());

        (status, json) = await _admin.SendAsync(HttpMethod.Post, "/api/ip-settings/import", Csv.Replace("pbx.example.org", "198.18.12.3", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, json.GetProperty("count").GetInt32());
        Assert.Equal(count + 3, await CountAsync());
        Assert.Contains(("set", "accountcode=9000000001"), Actions(await _server.FetchAsync(Call("198.18.12.200", "88555"))));

        var (exportStatus, export) = await _admin.GetAsync("/api/ip-settings/export");
        Assert.Equal(HttpStatusCode.OK, exportStatus);
        Assert.Contains(",\"csv, two\",198.18.12.0/24,5,0,88,1,default,0", export.GetString(), StringComparison.Ordinal);
        await _admin.PostAsync("/api/ip-settings/delete", new { ids = json.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray() });
    }

    [Fact]
    public async Task The_problems_report_lists_unusable_rows_ties_and_shadowed_rules()
    {
        var (status, json) = await _admin.GetAsync("/api/ip-settings/problems");
        Assert.Equal(HttpStatusCode.OK, status);
        var problems = json.EnumerateArray()
            .Select(p => (Id: p.GetProperty("ruleId").GetInt32(), Kind: p.GetProperty("kind").GetString(), Other: p.GetProperty("otherRuleId").ValueKind == JsonValueKind.Number ? p.GetProperty("otherRuleId").GetInt32() : 0, Text: p.GetProperty("problem").GetString()!))
            .ToList();

        Assert.Contains(problems, p => p is { Id: 41, Kind: "tie", Other: 40 });
        Assert.Contains(problems, p => p is { Id: 42, Kind: "shadowed", Other: 40 });
        Assert.Contains(problems, p => p.Id == 43 && p.Kind == "unusable" && p.Text.Contains("sbc.example.com", StringComparison.Ordinal));
        // Profile 1 is also the global default: sip_profile_id 1 and 0 end up on the same profile.
        Assert.Contains(problems, p => p is { Id: 45, Kind: "tie", Other: 44 });
        Assert.DoesNotContain(problems, p => p.Id is 40 or 44 or 1 or 4 or 5);

        var (_, scoped) = await _other.GetAsync("/api/ip-settings/problems");
        Assert.Empty(scoped.EnumerateArray());
    }

    [Fact]
    public async Task The_list_filters_pages_and_searches_with_literal_wildcards()
    {
        var (status, json) = await _admin.GetAsync("/api/ip-settings?accountId=2&status=0&pageSize=2&page=1");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, json.GetProperty("items").GetArrayLength());
        Assert.True(json.GetProperty("total").GetInt64() >= 5);
        Assert.All(json.GetProperty("items").EnumerateArray(), r => Assert.Equal(2, r.GetProperty("accountId").GetInt32()));

        (_, json) = await _admin.GetAsync("/api/ip-settings?q=Shared%20SBC");
        Assert.Equal([4, 5], json.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetInt32()));

        (_, json) = await _admin.GetAsync("/api/ip-settings?q=2001:db8:100");
        Assert.Equal([3], json.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetInt32()));

        // '%' and '_' are literal: no name, ip or prefix contains them.
        (_, json) = await _admin.GetAsync("/api/ip-settings?q=%25");
        Assert.Equal(0, json.GetProperty("total").GetInt64());
        (_, json) = await _admin.GetAsync("/api/ip-settings?q=_");
        Assert.Equal(0, json.GetProperty("total").GetInt64());

        (_, json) = await _admin.GetAsync("/api/ip-settings?resellerId=9");
        Assert.Equal([46], json.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetInt32()));

        (_, json) = await _admin.GetAsync("/api/ip-settings?sipProfileId=1&accountId=5");
        Assert.Equal([6], json.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetInt32()));

        (status, json) = await _admin.GetAsync("/api/ip-settings?pageSize=501");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("pageSize must be between 1 and 500", json.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Without_a_valid_key_the_api_answers_401_and_never_logs_the_key()
    {
        var (status, json) = await new AdminClient(_server, null).GetAsync("/api/ip-settings");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("X-Api-Key", json.GetProperty("detail").GetString(), StringComparison.Ordinal);

        const string Wrong = "wrong-key-0123456789-secret";
        (status, _) = await new AdminClient(_server, Wrong).PostAsync("/api/ip-settings", Rule("198.18.14.1"));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await new AdminClient(_server, Wrong).GetAsync("/api/ip-auth/resolve?ip=192.0.2.10&number=123")).Status);
        Assert.DoesNotContain(Wrong, _server.Logs.All, StringComparison.Ordinal);
        Assert.DoesNotContain(AdminApiFixture.AdminKey, _server.Logs.All, StringComparison.Ordinal);

        using var bearer = new HttpRequestMessage(HttpMethod.Get, "/api/ip-settings/1");
        bearer.Headers.Authorization = new("Bearer", AdminApiFixture.AdminKey);
        using var response = await _server.Client.SendAsync(bearer);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_explain_endpoint_takes_the_api_key_and_hides_other_resellers_rules()
    {
        var (status, json) = await _admin.GetAsync("/api/ip-auth/resolve?ip=192.0.2.10&number=123&profile=default");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, json.GetProperty("rule").GetProperty("id").GetInt32());

        (status, json) = await _other.GetAsync("/api/ip-auth/resolve?ip=192.0.2.10&number=123&profile=default");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("rule").ValueKind);
        Assert.Empty(json.GetProperty("candidates").EnumerateArray());
    }

    [Fact]
    public async Task The_openapi_document_describes_the_admin_api()
    {
        using var response = await _server.Client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.Content.ReadAsStringAsync();
        Assert.Contains("/api/ip-settings/{id}", document, StringComparison.Ordinal);
        Assert.Contains("/api/ip-settings/problems", document, StringComparison.Ordinal);
        Assert.Contains("/api/ip-auth/resolve", document, StringComparison.Ordinal);
    }
}

public sealed class AdminApiOffTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    [Fact]
    public async Task Without_configured_keys_the_admin_api_is_off_and_explain_stays_loopback_only()
    {
        var (status, _) = await new AdminClient(fixture.Server, "any-key-0123456789-whatever").GetAsync("/api/ip-settings");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal(HttpStatusCode.NotFound, (await new AdminClient(fixture.Server, null).PostAsync("/api/ip-settings", new { name = "x" })).Status);
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map WHERE name = 'x'"));

        var (resolveStatus, json) = await new AdminClient(fixture.Server, null).GetAsync("/api/ip-auth/resolve?ip=192.0.2.10&number=123&profile=default");
        Assert.Equal(HttpStatusCode.OK, resolveStatus);
        Assert.Equal(1, json.GetProperty("rule").GetProperty("id").GetInt32());
    }
}
