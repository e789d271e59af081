using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace FsDirectory.Cluster;

/// <summary>
/// How instances sharing one database elect the Event Socket pusher. Every lease duration is measured
/// by each instance on its own monotonic clock; no lease decision compares timestamps taken on two
/// machines. Only the peer wait reads a heartbeat row's age, computed by the database (ClusterCoordinator).
/// </summary>
public sealed class ClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>Shown in /api/status and the lease row; the process id and a random suffix are appended. Empty: the host name.</summary>
    [StringLength(100)]
    public string InstanceName { get; set; } = string.Empty;

    /// <summary>How often the holder renews the lease and every instance writes its heartbeat row.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long after its last successful renewal began the holder keeps pushing when it cannot renew.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan HoldFor { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>How long another instance must see the lease row unchanged before it takes over.</summary>
    [Range(typeof(TimeSpan), "00:00:00.200", "00:10:00")]
    public TimeSpan TakeoverAfter { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>Longest the pusher waits for every live instance to serve the new acl.conf and sofia.conf before it pushes anyway.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan PeerWait { get; set; } = TimeSpan.FromSeconds(3);
}

/// <summary>
/// An old holder stops at its last renewal's start + HoldFor; an observer saw that renewal no
/// earlier than it began and waits TakeoverAfter from then. So TakeoverAfter must exceed HoldFor,
/// and the gap (a renewal interval at least) is the margin for the two clocks' rates to differ.
/// </summary>
public sealed class ClusterOptionsValidator : IValidateOptions<ClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterOptions options)
    {
        var errors = new List<string>();
        if (options.HoldFor < options.RenewInterval * 2)
        {
            errors.Add("Cluster:HoldFor must be at least twice Cluster:RenewInterval, so one slow renewal does not stop the pushes");
        }

        if (options.TakeoverAfter < options.HoldFor + options.RenewInterval)
        {
            errors.Add("Cluster:TakeoverAfter must be at least Cluster:HoldFor + Cluster:RenewInterval, or two instances could push at once");
        }

        if (options.InstanceName.Any(char.IsControl))
        {
            errors.Add("Cluster:InstanceName must not contain control characters");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>This process among the instances: unique even when two share a host name and process id (containers).</summary>
public sealed record InstanceIdentity(string Id)
{
    public static InstanceIdentity Create(IOptions<ClusterOptions> options)
    {
        var name = options.Value.InstanceName is { Length: > 0 } configured ? configured : Environment.MachineName;
        return new InstanceIdentity($"{name}/{Environment.ProcessId}/{RandomNumberGenerator.GetHexString(6, lowercase: true)}");
    }
}
