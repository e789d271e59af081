using System.Net;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.AdminConsole;

/// <summary>A service whose acl.conf is over both limits from the start, with one profile in dialplan mode.</summary>
public sealed class ConsoleStatusFixture : DemoServerFixture
{
    public const string AdminKey = "status-admin-key-0123456789-abc";

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = AdminKeys.Settings((AdminKey, "ops", null));
            settings["Acl:ResponseMaxBytes"] = "1024";
            settings["Acl:MaxNodes"] = "1";
            return settings;
        }
    }

    protected override Task SeedAsync(TestDatabase database) => database.ExecuteAsync(
        """
        INSERT INTO sip_profiles (id, name, sip_ip, sip_port, profile_data, status, fsdir_ip_auth_mode) VALUES (2, 'trunks', '127.0.0.1', '5080', '{}', 0, 'dialplan');
        INSERT INTO ip_map (id, name, ip, accountid, sip_profile_id, prefix, context, status) VALUES
        """ + string.Join(", ", Enumerable.Range(0, 100).Select(static i => $"({1000 + i}, 'bulk {i}', '10.9.{i}.1', 2, 1, '', 'default', 0)")) + ";");
}

public sealed class ConsoleStatusTests(ConsoleStatusFixture fixture) : IClassFixture<ConsoleStatusFixture>
{
    [Fact]
    public async Task The_status_page_says_when_acl_conf_is_over_the_switches_limits_and_shows_each_profiles_mode()
    {
        using var client = new ConsoleClient(fixture.Server);
        using (var login = await client.LogInAsync(ConsoleStatusFixture.AdminKey))
        {
            Assert.Equal(HttpStatusCode.Found, login.StatusCode);
        }

        using var page = await client.GetAsync("/console/status");
        var html = WebUtility.HtmlDecode(await page.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Too large for the switches' response-max-bytes", html, StringComparison.Ordinal);
        Assert.Contains("Answering 503 (none has fit since start)", html, StringComparison.Ordinal);
        Assert.Contains("data-mode=\"dialplan\"", html, StringComparison.Ordinal);
        Assert.Contains("data-mode=\"acl\"", html, StringComparison.Ordinal);
    }
}
