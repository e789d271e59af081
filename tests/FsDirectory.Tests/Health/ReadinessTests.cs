using FsDirectory.FreeSwitch;
using FsDirectory.Health;
using FsDirectory.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace FsDirectory.Tests.Health;

/// <summary>/health/ready as the load balancer's check reads it: 200 only while this instance can answer a switch now.</summary>
public sealed class ReadinessTests
{
    private static readonly Snapshot Loaded = new SnapshotBuilder(new FixedOptions<FreeSwitchOptions>(new FreeSwitchOptions()), TimeProvider.System).Build(new SnapshotData
    {
        ChangeToken = "test",
        Accounts = [],
        IpRules = [],
        Devices = [],
        Profiles = [],
        Gateways = [],
        DefaultSipProfileSetting = null,
    }, 1);

    private static int StatusOf(IResult result) => Assert.IsAssignableFrom<IStatusCodeHttpResult>(result).StatusCode ?? 200;

    [Fact]
    public void An_instance_without_a_snapshot_is_not_ready()
    {
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);

        Assert.Equal(503, StatusOf(HealthEndpoints.Ready(new SnapshotHolder(), new ReloadStatus { DatabaseReachable = true }, lifetime, TimeProvider.System)));
    }

    [Fact]
    public void An_instance_with_a_snapshot_is_ready_even_while_the_database_is_unreachable()
    {
        var holder = new SnapshotHolder();
        holder.Swap(Loaded);
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);

        var result = HealthEndpoints.Ready(holder, new ReloadStatus { DatabaseReachable = false }, lifetime, TimeProvider.System);

        Assert.Equal(200, StatusOf(result));
    }

    [Fact]
    public void An_instance_that_is_stopping_is_not_ready_so_the_balancer_drains_it()
    {
        var holder = new SnapshotHolder();
        holder.Swap(Loaded);
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        lifetime.StopApplication();

        Assert.Equal(503, StatusOf(HealthEndpoints.Ready(holder, new ReloadStatus { DatabaseReachable = true }, lifetime, TimeProvider.System)));
    }
}
