using FsDirectory.Acl;
using FsDirectory.Admin;
using FsDirectory.AdminConsole;
using FsDirectory.Audit;
using FsDirectory.ChangeFeed;
using FsDirectory.Cluster;
using FsDirectory.Database;
using FsDirectory.Directory;
using FsDirectory.EventSocket;
using FsDirectory.FreeSwitch;
using FsDirectory.Health;
using FsDirectory.Https;
using FsDirectory.IpAuth;
using FsDirectory.Limits;
using FsDirectory.Metrics;
using FsDirectory.Profiles;
using FsDirectory.Snapshots;
using FsDirectory.Status;
using Microsoft.Extensions.Options;

namespace FsDirectory.Hosting;

/// <summary>The service's composition: what Program.cs and the integration tests both start.</summary>
public static class FsDirectoryComposition
{
    public static WebApplicationBuilder AddFsDirectory(this WebApplicationBuilder builder)
    {
        builder.AddSettingsFile().AddSystemdIntegration().AddHttps();
        var services = builder.Services;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);

        services.AddOptions<FreeSwitchOptions>().BindConfiguration(FreeSwitchOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ChangeFeedOptions>().BindConfiguration(ChangeFeedOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ChangeFeedOptions>, ChangeFeedOptionsValidator>();
        services.AddOptions<AclOptions>().BindConfiguration(AclOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AclOptions>, AclOptionsValidator>();
        services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<FreeSwitchAccessOptions>().BindConfiguration(FreeSwitchAccessOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<FreeSwitchAccessOptions>, FreeSwitchAccessOptionsValidator>();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(CreateDatabaseConnector);
        services.AddSingleton<DirectoryStore>();
        services.AddSingleton<SnapshotBuilder>();
        services.AddSingleton<SnapshotPatcher>();
        services.AddSingleton<SnapshotHolder>();
        services.AddSingleton<ReloadStatus>();
        services.AddSingleton<ReplacedSnapshotCollector>();
        services.AddSingleton<SnapshotWarmup>();
        services.AddSingleton<SnapshotReloader>();
        services.AddSingleton<SnapshotSelfCheck>();
        services.AddHostedService(sp => sp.GetRequiredService<SnapshotReloader>());
        services.AddHostedService(sp => sp.GetRequiredService<SnapshotWarmup>());
        services.AddHostedService(sp => sp.GetRequiredService<SnapshotSelfCheck>());
        services.AddHostedService<ChangeFeedTrimmer>();

        services.AddSingleton<DirectoryAnswers>();
        services.AddSingleton<DialplanAnswers>();
        services.AddSingleton<AclConfAnswers>();
        services.AddSingleton<ISnapshotWarmer>(sp => sp.GetRequiredService<AclConfAnswers>());
        services.AddSingleton<SofiaConfAnswers>();
        services.AddSingleton<HashConfAnswers>();
        services.AddSingleton<FreeSwitchAnswers>();
        services.AddSingleton<FreeSwitchMetricsFilter>();
        services.AddSingleton<FreeSwitchAccessFilter>();
        services.AddCluster();
        services.AddEventSocketPush();
        services.AddAdminApi();
        services.AddAudit();
        services.AddAdminConsole();
        services.AddSingleton<FsDirectoryMetrics>();
        return builder;
    }

    public static WebApplication MapFsDirectory(this WebApplication app)
    {
        app.UseHttpsAndForwardedHeaders();
        app.MapHealth();
        app.MapFreeSwitch();
        app.MapIpAuthApi();
        app.MapStatus();
        app.MapLimits();
        app.MapAdmin();
        app.MapTrustedProxies();
        app.MapAudit();
        app.MapAdminConsole();
        app.MapFsDirectoryMetrics();
        return app;
    }

    /// <summary>Pooled connections to the configured host(s), with budgets far below MySqlConnector's 15 s / 30 s defaults.</summary>
    private static DatabaseConnector CreateDatabaseConnector(IServiceProvider services)
    {
        var configured = services.GetRequiredService<IConfiguration>().GetConnectionString("Default");
        if (string.IsNullOrWhiteSpace(configured))
        {
            throw new InvalidOperationException(
                "ConnectionStrings:Default is not set. Set the environment variable ConnectionStrings__Default, or use `make run`, which provisions a local MariaDB.");
        }

        return new DatabaseConnector(configured, services.GetRequiredService<IOptions<DatabaseOptions>>(),
            services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILogger<DatabaseConnector>>());
    }
}
