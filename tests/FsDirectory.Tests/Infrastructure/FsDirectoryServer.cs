using System.Xml.Linq;
using FsDirectory.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FsDirectory.Tests.Infrastructure;

/// <summary>
/// The real service on a real Kestrel listener (127.0.0.1, a free port), composed exactly as
/// Program.cs composes it, over a real MariaDB database.
/// </summary>
public sealed class FsDirectoryServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FsDirectoryServer(WebApplication app, Uri address, CapturingLoggerProvider logs)
    {
        _app = app;
        Address = address;
        Logs = logs;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri Address { get; }
    public HttpClient Client { get; }
    public CapturingLoggerProvider Logs { get; }
    public IServiceProvider Services => _app.Services;
    public Snapshot? Snapshot => Services.GetRequiredService<SnapshotHolder>().Current;

    /// <param name="configure">Runs after the service is composed (a test's own middleware or endpoints go last).</param>
    /// <param name="urls">The listener; only loopback addresses are ever bound by the suite.</param>
    public static async Task<FsDirectoryServer> StartAsync(string connectionString, IDictionary<string, string?>? settings = null, bool waitForData = true,
        Action<WebApplication>? configure = null, string urls = "http://127.0.0.1:0")
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        var config = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Default"] = connectionString,
            ["Database:PollInterval"] = "00:00:00.100",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(config);
        builder.WebHost.UseUrls(urls);
        var logs = new CapturingLoggerProvider();
        builder.Logging.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
        builder.AddFsDirectory();
        var app = builder.Build();
        app.MapFsDirectory();
        configure?.Invoke(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var server = new FsDirectoryServer(app, new Uri(address), logs);
        if (waitForData)
        {
            await server.WaitForSnapshotAsync();
        }

        return server;
    }

    public async Task WaitForSnapshotAsync()
    {
        for (var i = 0; i < 300 && Snapshot is null; i++)
        {
            await Task.Delay(50);
        }

        Assert.NotNull(Snapshot);
    }

    /// <summary>Rebuilds the snapshot now (what an admin write does), instead of waiting for the poll.</summary>
    public Task ReloadAsync() =>
        Services.GetRequiredService<SnapshotReloader>().ReloadIfChangedAsync(force: true, CancellationToken.None);

    public Task<HttpResponseMessage> PostAsync(FreeSwitchForm form) => Client.PostFormAsync(form);

    /// <summary>Posts a form, checks the FreeSWITCH contract (200, text/xml, declaration alone on its line) and parses the reply.</summary>
    public Task<XDocument> FetchAsync(FreeSwitchForm form) => Client.FetchAsync(form);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
