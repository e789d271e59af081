using System.Net;
using FsDirectory.Admin;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace FsDirectory.AdminConsole;

/// <summary>
/// Start-up: refuses the demo key (Admin:DemoKey) unless every listener is loopback, checked on the configured
/// addresses before Kestrel binds and again on the bound ones; then prints where the console is (and, for the
/// loopback demo only, the demo key, which is the one key ever printed).
/// </summary>
public sealed partial class LoopbackGuard(
    IOptions<AdminOptions> admin, IOptions<ConsoleOptions> console, IConfiguration configuration, IServer server, ILogger<LoopbackGuard> logger)
    : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(admin.Value.DemoKey))
        {
            Refuse(ConfiguredAddresses(configuration).Where(a => !IsLoopback(a)).ToList());
        }

        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
        var demo = admin.Value.DemoKey;
        if (!string.IsNullOrEmpty(demo))
        {
            Refuse(addresses.Where(a => !IsLoopback(a)).ToList());
        }

        if (admin.Value.AllKeys.Count == 0)
        {
            LogConsoleOff();
            return Task.CompletedTask;
        }

        if (!console.Value.Enabled)
        {
            LogConsoleDisabled();
            return Task.CompletedTask;
        }

        foreach (var address in addresses)
        {
            LogConsoleAt(address.TrimEnd('/') + ConsoleComposition.PathPrefix + "/");
        }

        if (!string.IsNullOrEmpty(demo))
        {
            LogDemoKey(demo);
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static void Refuse(List<string> addresses)
    {
        if (addresses.Count > 0)
        {
            throw new InvalidOperationException(
                $"Admin:DemoKey is set, but the service would listen on {string.Join(", ", addresses)}, which is not loopback. "
                + "The demo key is for the local `make run` demo only: configure Admin:ApiKeys with your own keys for any other listener.");
        }
    }

    /// <summary>Every address Kestrel will bind from configuration: urls, HTTP(S)_PORTS (all interfaces) and Kestrel:Endpoints.</summary>
    internal static IEnumerable<string> ConfiguredAddresses(IConfiguration configuration)
    {
        foreach (var url in (configuration["urls"] ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            yield return url;
        }

        foreach (var (setting, scheme) in new[] { ("http_ports", "http"), ("https_ports", "https") })
        {
            foreach (var port in (configuration[setting] ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                yield return $"{scheme}://*:{port}";
            }
        }

        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { Length: > 0 } url)
            {
                yield return url;
            }
        }
    }

    internal static bool IsLoopback(string address)
    {
        try
        {
            var host = BindingAddress.Parse(address).Host;
            return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
                || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
        }
        catch (FormatException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin console: {Url} (sign in with an Admin:ApiKeys key)")]
    private partial void LogConsoleAt(string url);

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin console and API are off: no Admin:ApiKeys configured")]
    private partial void LogConsoleOff();

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin console is off (Console:Enabled=false); the admin API is on")]
    private partial void LogConsoleDisabled();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Admin console demo key (Admin:DemoKey, loopback only, for this local demo): {DemoKey}")]
    private partial void LogDemoKey(string demoKey);
}
