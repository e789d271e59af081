using FsDirectory.AdminConsole;
using FsDirectory.Tests.AdminConsole;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Https;

/// <summary>Two services on one database: one behind a TLS proxy at 127.0.0.1 (this test's own address), one whose only trusted proxy is elsewhere.</summary>
public sealed class ForwardedHeadersFixture : IAsyncLifetime
{
    public const string AdminKey = "forwarded-admin-key-0123456789";

    public TestDatabase Database { get; private set; } = null!;
    public FsDirectoryServer BehindProxy { get; private set; } = null!;
    public FsDirectoryServer ProxyElsewhere { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync(seed: true);
        BehindProxy = await FsDirectoryServer.StartAsync(Database.ConnectionString, Settings("127.0.0.1"));
        ProxyElsewhere = await FsDirectoryServer.StartAsync(Database.ConnectionString, Settings("127.0.0.2"));
    }

    public async Task DisposeAsync()
    {
        await BehindProxy.DisposeAsync();
        await ProxyElsewhere.DisposeAsync();
        await Database.DisposeAsync();
    }

    private static Dictionary<string, string?> Settings(string proxy)
    {
        var settings = AdminKeys.Settings((AdminKey, "ops", null));
        settings["ForwardedHeaders:KnownProxies:0"] = proxy;
        return settings;
    }
}

public sealed class ForwardedHeadersTests(ForwardedHeadersFixture fixture) : IClassFixture<ForwardedHeadersFixture>
{
    private const string Throttled = "Too many refused keys from this address";

    private static async Task<bool> RefusedAsThrottledAsync(ConsoleClient client)
    {
        using var response = await client.LogInAsync("not-the-key-0123456789-wrong");
        return (await response.Content.ReadAsStringAsync()).Contains(Throttled, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_forged_x_forwarded_for_from_a_client_that_is_not_a_known_proxy_does_not_move_the_sign_in_throttle()
    {
        using var client = new ConsoleClient(fixture.ProxyElsewhere);
        for (var i = 0; i < LoginThrottle.MaxFailures; i++)
        {
            client.SetHeader("X-Forwarded-For", $"198.18.77.{i + 1}");
            Assert.False(await RefusedAsThrottledAsync(client));
        }

        // Every attempt counted against 127.0.0.1, whatever the header claimed: a new claimed address is no way out.
        client.SetHeader("X-Forwarded-For", "198.18.77.200");
        Assert.True(await RefusedAsThrottledAsync(client));
    }

    [Fact]
    public async Task Behind_a_known_proxy_the_throttle_counts_the_client_address_the_proxy_forwards()
    {
        using var client = new ConsoleClient(fixture.BehindProxy);
        client.SetHeader("X-Forwarded-For", "198.51.100.7");
        for (var i = 0; i < LoginThrottle.MaxFailures; i++)
        {
            Assert.False(await RefusedAsThrottledAsync(client));
        }

        Assert.True(await RefusedAsThrottledAsync(client));
        client.SetHeader("X-Forwarded-For", "198.51.100.8");
        Assert.False(await RefusedAsThrottledAsync(client));
        // The client wrote the left entry, the proxy the right one: only the proxy's own entry counts.
        client.SetHeader("X-Forwarded-For", "198.51.100.99, 198.51.100.7");
        Assert.True(await RefusedAsThrottledAsync(client));
    }
}
