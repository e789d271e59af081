using FsDirectory.Snapshots;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Options;

namespace FsDirectory.Hosting;

/// <summary>
/// How the service runs as a daemon (the Debian package's <c>fsdirectory.service</c>): an operator's settings file,
/// systemd's readiness protocol, journald's log priorities, and one clear line instead of a stack trace when the
/// configuration cannot start.
/// </summary>
public static class ServiceHost
{
    /// <summary>sysexits.h EX_CONFIG: the unit's <c>RestartPreventExitStatus</c>, so a bad setting is not retried in a loop.</summary>
    public const int ConfigurationError = 78;

    /// <summary>The option naming the operator's settings file: <c>--settings /etc/fsdirectory/appsettings.json</c>.</summary>
    public const string SettingsKey = "Settings";

    /// <summary>
    /// Adds the file named by <c>--settings</c> (or <c>Settings</c> in the environment) above the shipped appsettings.json
    /// and below environment variables and the command line, so secrets in the unit's environment file and one-off
    /// flags still win over the conffile.
    /// </summary>
    public static WebApplicationBuilder AddSettingsFile(this WebApplicationBuilder builder)
    {
        if (builder.Configuration[SettingsKey] is not { Length: > 0 } path)
        {
            return builder;
        }

        var sources = builder.Configuration.Sources;
        var environment = sources.OfType<EnvironmentVariablesConfigurationSource>().LastOrDefault(s => string.IsNullOrEmpty(s.Prefix));
        var at = environment is null ? sources.Count : sources.IndexOf(environment);
        var file = new ConfigurationBuilder().AddJsonFile(Path.GetFullPath(path), optional: false, reloadOnChange: true).Sources[0];
        sources.Insert(at, file);
        return builder;
    }

    /// <summary>
    /// Under systemd: log lines carry their priority (<c>&lt;3&gt;</c> for errors) on one line each, and
    /// <c>READY=1</c> is sent once the first snapshot is loaded, since before that every answer would be "not found".
    /// </summary>
    public static WebApplicationBuilder AddSystemdIntegration(this WebApplicationBuilder builder)
    {
        if (UnderJournal)
        {
            builder.Logging.AddSystemdConsole(options => options.IncludeScopes = false);
        }

        var notifier = new SystemdNotifier();
        if (notifier.IsEnabled)
        {
            builder.Services.Configure<ConsoleLifetimeOptions>(options => options.SuppressStatusMessages = true);
            builder.Services.AddSingleton<ISystemdNotifier>(notifier);
            builder.Services.AddHostedService<SystemdReadiness>();
        }

        return builder;
    }

    /// <summary>Whether the process can start; when not, says why in one line. Checked before the host is built.</summary>
    public static bool CanStart(WebApplicationBuilder builder, TextWriter error)
    {
        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Default")))
        {
            return true;
        }

        WriteError(error, "ConnectionStrings:Default is not set: put the database password and connection in the environment file "
            + "(ConnectionStrings__Default=..., /etc/fsdirectory/fsdirectory.env for the packaged service), or use `make run`, which provisions a local MariaDB.");
        return false;
    }

    /// <summary>Runs the service; a setting refused at start-up is one line per problem and <see cref="ConfigurationError"/>.</summary>
    public static async Task<int> RunAsync(WebApplication app, TextWriter error)
    {
        try
        {
            await app.RunAsync();
            return 0;
        }
        catch (OptionsValidationException refused)
        {
            foreach (var failure in refused.Failures)
            {
                WriteError(error, $"invalid setting ({refused.OptionsType.Name}): {failure}");
            }

            return ConfigurationError;
        }
    }

    private static bool UnderJournal => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM"));

    private static void WriteError(TextWriter error, string message) =>
        error.WriteLine((UnderJournal ? "<3>" : string.Empty) + "fsdirectory: " + message.ReplaceLineEndings(" "));
}

/// <summary>
/// systemd's <c>Type=notify</c>: ready once a snapshot is loaded and the server listens, stopping when the host
/// stops. Both are needed: hosted services start before Kestrel binds, so a snapshot loaded quickly would otherwise
/// announce a service whose port still refuses connections (seen in the package test on a fast run).
/// </summary>
public sealed class SystemdReadiness(ISystemdNotifier notifier, SnapshotHolder snapshots, IHostApplicationLifetime lifetime) : IHostedService
{
    private int _listening;
    private int _ready;
    private CancellationTokenRegistration _started;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        snapshots.Swapped += OnSwapped;
        _started = lifetime.ApplicationStarted.Register(() =>
        {
            Volatile.Write(ref _listening, 1);
            TryReady();
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        snapshots.Swapped -= OnSwapped;
        _started.Dispose();
        notifier.Notify(ServiceState.Stopping);
        return Task.CompletedTask;
    }

    private void OnSwapped(Snapshot? previous, Snapshot next) => TryReady();

    private void TryReady()
    {
        if (Volatile.Read(ref _listening) == 1 && snapshots.Current is { } loaded && Interlocked.Exchange(ref _ready, 1) == 0)
        {
            notifier.Notify(new ServiceState($"READY=1\nSTATUS=serving snapshot {loaded.Version}"));
        }
    }
}
