using System.Diagnostics;
using System.Net;
using System.Text.Json;
using FsDirectory.Tests.Admin;
using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Proxies;

public sealed class TrustedProxiesApiTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    private const string Path = "/api/trusted-proxies";
    private readonly FsDirectoryServer _server = fixture.Server;
    private readonly AdminClient _admin = new(fixture.Server, AdminApiFixture.AdminKey);
    private readonly AdminClient _reseller = new(fixture.Server, AdminApiFixture.ResellerKey);

    /// <summary>The real proxied capture on the demo profile, relayed by <paramref name="proxy"/> for Contoso's shared SBC (rule 4).</summary>
    private static FreeSwitchForm Relayed(string proxy) =>
        FreeSwitchForm.Load(ProxiedCallFixture.Capture)
            .With("Hunt-Network-Addr", proxy).With("Caller-Network-Addr", proxy).With("variable_sofia_profile_name", "default");

    private async Task<int> CreateAsync(object body)
    {
        var (status, json) = await _admin.PostAsync(Path, body);
        Assert.True(status == HttpStatusCode.Created, json.ToString());
        return json.GetProperty("id").GetInt32();
    }

    private Task<long> CountAsync() => fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM fsdir_trusted_proxies");

    [Fact]
    public async Task A_proxy_added_through_the_api_is_honoured_within_two_seconds_and_removing_it_withdraws_the_trust()
    {
        Assert.Contains(("respond", "403 Forbidden"), Actions(await _server.FetchAsync(Relayed("127.0.0.40"))));

        var clock = Stopwatch.StartNew();
        var id = await CreateAsync(new { name = "kamailio-a", ip = "127.0.0.40" });
        var accepted = Actions(await _server.FetchAsync(Relayed("127.0.0.40")));
        clock.Stop();

        Assert.Contains(("set", "accountcode=1000000001"), accepted);
        Assert.Contains(("set", "fsdir_source_ip=203.0.113.10"), accepted);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");

        var (status, _) = await _admin.SendAsync(HttpMethod.Delete, $"{Path}/{id}");
        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.Contains(("respond", "403 Forbidden"), Actions(await _server.FetchAsync(Relayed("127.0.0.40"))));
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync($"{Path}/{id}")).Status);
    }

    [Fact]
    public async Task Proxies_are_stored_canonically_listed_replaced_and_bound_to_a_profile()
    {
        var id = await CreateAsync(new { name = " lb pool ", ip = "2001:DB8:77::9/48", sipProfileId = 1 });

        var (status, json) = await _admin.GetAsync($"{Path}/{id}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("lb pool", json.GetProperty("name").GetString());
        Assert.Equal("2001:db8:77::/48", json.GetProperty("ip").GetString());
        Assert.Equal(1, json.GetProperty("sipProfileId").GetInt32());
        Assert.Equal("2001:db8:77::/48", await fixture.Database.ScalarAsync<string>("SELECT ip FROM fsdir_trusted_proxies WHERE id = @id", new { id }));
        Assert.Equal("fsdir_proxies_default", _server.Snapshot!.Proxies.ListFor("default"));

        (status, json) = await _admin.SendAsync(HttpMethod.Put, $"{Path}/{id}", new { name = "lb pool", ip = "127.0.0.41", status = 1 });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("127.0.0.41/32", json.GetProperty("ip").GetString());
        Assert.Equal(0, json.GetProperty("sipProfileId").GetInt32());
        Assert.Equal(1, json.GetProperty("status").GetInt32());
        Assert.Null(_server.Snapshot!.Proxies.ListFor("default"));

        var (_, list) = await _admin.GetAsync(Path);
        Assert.Contains(list.EnumerateArray(), p => p.GetProperty("id").GetInt32() == id && p.GetProperty("ip").GetString() == "127.0.0.41/32");
        await _admin.SendAsync(HttpMethod.Delete, $"{Path}/{id}");
    }

    public static TheoryData<string, string, string> InvalidBodies => new()
    {
        { """{"ip":"127.0.0.50"}""", "name", "name is required" },
        { $$"""{"name":"{{new string('n', 65)}}","ip":"127.0.0.50"}""", "name", "name is 65 characters long; at most 64 are allowed" },
        { """{"name":"n"}""", "ip", "ip is required" },
        { """{"name":"n","ip":"sip.example.com"}""", "ip", "ip 'sip.example.com' is a hostname; hostnames are not resolved" },
        { """{"name":"n","ip":"127.0.0.256"}""", "ip", "is not an IPv4 or IPv6 address or CIDR network" },
        { """{"name":"n","ip":"127.1"}""", "ip", "is not an IPv4 or IPv6 address or CIDR network" },
        { """{"name":"n","ip":"127.0.0.50:5060"}""", "ip", "is not an IPv4 or IPv6 address or CIDR network" },
        { """{"name":"n","ip":"10.0.0.0/8"}""", "ip", "10.0.0.0/8 is wider than /16" },
        { """{"name":"n","ip":"::/0"}""", "ip", "::/0 is wider than /48" },
        { """{"name":"n","ip":"127.0.0.50","sipProfileId":77}""", "sipProfileId", "sip profile 77 does not exist" },
        { """{"name":"n","ip":"127.0.0.50","sipProfileId":2}""", "sipProfileId", "sip profile 2 is inactive" },
        { """{"name":"n","ip":"127.0.0.50","sipProfileId":-1}""", "sipProfileId", "sipProfileId must be 0 (every profile) or a sip_profiles id" },
        { """{"name":"n","ip":"127.0.0.50","status":2}""", "status", "status must be 0 (active) or 1 (inactive)" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Every_invalid_field_is_refused_with_a_precise_problem_and_nothing_is_stored(string body, string field, string message)
    {
        var count = await CountAsync();
        var (status, json) = await _admin.PostAsync(Path, JsonDocument.Parse(body).RootElement);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(message, json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(field, json.GetProperty("field").GetString());
        Assert.Equal("Invalid trusted proxy", json.GetProperty("title").GetString());
        Assert.Equal(count, await CountAsync());
    }

    [Fact]
    public async Task The_same_network_on_the_same_profile_conflicts_with_the_existing_proxy()
    {
        var id = await CreateAsync(new { name = "first", ip = "127.0.0.60/32" });
        var count = await CountAsync();

        var (status, json) = await _admin.PostAsync(Path, new { name = "again", ip = "127.0.0.60" });
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal(id, json.GetProperty("existingId").GetInt32());
        Assert.Equal(count, await CountAsync());

        // The same address trusted on one profile only is another entry.
        var other = await CreateAsync(new { name = "again", ip = "127.0.0.60", sipProfileId = 1 });
        Assert.Equal(HttpStatusCode.Conflict, (await _admin.SendAsync(HttpMethod.Put, $"{Path}/{other}", new { name = "again", ip = "127.0.0.60" })).Status);
        await _admin.SendAsync(HttpMethod.Delete, $"{Path}/{other}");
        await _admin.SendAsync(HttpMethod.Delete, $"{Path}/{id}");
    }

    [Fact]
    public async Task Reseller_keys_cannot_see_or_change_trusted_proxies()
    {
        var id = await CreateAsync(new { name = "ops only", ip = "127.0.0.70" });
        var count = await CountAsync();

        Assert.Equal(HttpStatusCode.Forbidden, (await _reseller.GetAsync(Path)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await _reseller.GetAsync($"{Path}/{id}")).Status);
        var (status, json) = await _reseller.PostAsync(Path, new { name = "mine", ip = "127.0.0.71" });
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("operator setting", json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await _reseller.SendAsync(HttpMethod.Delete, $"{Path}/{id}")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await new AdminClient(_server, "not-a-key-0123456789").GetAsync(Path)).Status);
        Assert.Equal(count, await CountAsync());

        // The explain endpoint still answers a reseller, without the operator's proxy entry.
        var (_, explained) = await _reseller.GetAsync("/api/ip-auth/resolve?ip=203.0.113.10&via=127.0.0.70&number=12345678*1&profile=default");
        Assert.True(explained.GetProperty("accepted").GetBoolean());
        Assert.Equal(JsonValueKind.Null, explained.GetProperty("proxy").ValueKind);
        await _admin.SendAsync(HttpMethod.Delete, $"{Path}/{id}");
    }

    [Fact]
    public async Task Writes_go_to_the_change_feed_and_rows_written_around_the_api_show_their_problem()
    {
        const string FeedRows = "SELECT COUNT(*) FROM fsdir_change_feed WHERE table_name = 'fsdir_trusted_proxies'";
        var before = await fixture.Database.ScalarAsync<long>(FeedRows);
        var id = await CreateAsync(new { name = "versioned", ip = "127.0.0.80" });
        await _admin.SendAsync(HttpMethod.Delete, $"{Path}/{id}");
        var after = await fixture.Database.ScalarAsync<long>(FeedRows);
        Assert.True(after >= before + 2, $"{before} -> {after}");

        await fixture.Database.ExecuteAsync("INSERT INTO fsdir_trusted_proxies (id, name, ip, sip_profile_id, status) VALUES (900, 'dba', 'lb.example.net', 0, 0)");
        await _server.ReloadAsync();
        var (status, json) = await _admin.GetAsync($"{Path}/900");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("hostnames are not accepted", json.GetProperty("problem").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.SendAsync(HttpMethod.Delete, $"{Path}/900")).Status);
    }

    [Fact]
    public async Task Unknown_ids_get_404_problem_details()
    {
        var (status, json) = await _admin.GetAsync($"{Path}/987654");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("trusted proxy 987654 not found", json.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.SendAsync(HttpMethod.Put, $"{Path}/987654", new { name = "n", ip = "127.0.0.90" })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.SendAsync(HttpMethod.Delete, $"{Path}/987654")).Status);
    }
}
