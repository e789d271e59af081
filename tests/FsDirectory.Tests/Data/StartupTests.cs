using System.Net;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Data;

public sealed class StartupTests
{
    [Fact]
    public async Task Without_a_reachable_database_the_service_is_not_ready_and_answers_503()
    {
        // A loopback port nobody listens on.
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var server = await FsDirectoryServer.StartAsync(
            $"Server=127.0.0.1;Port={port};User ID=x;Password=y;Database=none", waitForData: false);

        using var fetch = await server.PostAsync(FreeSwitchForm.Load("directory-sip_auth-register"));
        using var ready = await server.Client.GetAsync("/health/ready");
        using var live = await server.Client.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, fetch.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task With_data_loaded_the_service_is_ready()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var server = await FsDirectoryServer.StartAsync(database.ConnectionString);

        using var ready = await server.Client.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"databaseReachable\":true", await ready.Content.ReadAsStringAsync());
    }
}
