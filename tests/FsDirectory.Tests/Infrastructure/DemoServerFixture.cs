using Microsoft.AspNetCore.Builder;

namespace FsDirectory.Tests.Infrastructure;

/// <summary>One database with the demo seed and one running service, shared by a test class.</summary>
public class DemoServerFixture : IAsyncLifetime
{
    public TestDatabase Database { get; private set; } = null!;
    public FsDirectoryServer Server { get; private set; } = null!;

    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    /// <summary>A test class's own middleware or endpoints, added after the service's.</summary>
    protected virtual Action<WebApplication>? Configure => null;

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync(seed: true);
        await SeedAsync(Database);
        Server = await FsDirectoryServer.StartAsync(Database.ConnectionString, Settings, configure: Configure);
    }

    /// <summary>Rows a test class adds on top of the demo seed, before the service starts.</summary>
    protected virtual Task SeedAsync(TestDatabase database) => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Database.DisposeAsync();
    }
}
