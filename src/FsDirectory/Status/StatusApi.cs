using FsDirectory.Acl;
using FsDirectory.Admin;
using FsDirectory.Cluster;
using FsDirectory.Database;
using FsDirectory.EventSocket;
using FsDirectory.Limits;
using FsDirectory.Profiles;
using FsDirectory.Snapshots;
using Microsoft.Extensions.Options;

namespace FsDirectory.Status;

/// <summary>What an operator checks first: which data is served, how changes are detected, and whether the switches got them.</summary>
public static class StatusApi
{
    public static RouteGroupBuilder MapStatus(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/status").WithTags("Status");
        group.MapGet("/", GetStatusHandler).AddEndpointFilter(AdminAccess.RequireKeyOrLoopback);
        return group;
    }

    /// <param name="caller">Scopes the limits preview (a reseller key sees its own customers); null: everything.</param>
    public static IResult GetStatus(
        SnapshotHolder snapshots, ReloadStatus reload, DatabaseConnector database, EventSocketPublisher publisher, ClusterCoordinator cluster, TimeProvider time,
        AclConfAnswers acl, IOptionsMonitor<LimitsOptions> limits, AdminCaller? caller)
    {
        var snapshot = snapshots.Current;
        return Results.Ok(new StatusResponse(
            snapshot?.Version,
            snapshot?.LoadedAt,
            snapshot is null ? null : (time.GetUtcNow() - snapshot.LoadedAt).TotalSeconds,
            snapshot?.UsableRules.Count,
            snapshot?.Devices.Count,
            snapshot?.Profiles.Count,
            snapshot?.Problems.Count,
            reload.Detection?.ToString(),
            reload.DatabaseReachable,
            reload.LastError,
            database.CurrentHost,
            database.Hosts,
            new EventSocketStatus(publisher.IsPushing, [.. publisher.Nodes.Select(static n => n.Status())]),
            cluster.Status(),
            snapshot is null ? [] : [.. snapshot.Profiles.Select(static p => new SipProfileStatus(p.Id, p.Name, p.Mode.ToText(), p.ServesCustomerAcl))],
            acl.Guard)
        {
            Limits = snapshot is null ? null : LimitsApi.Preview(snapshot, limits.CurrentValue, caller),
        });
    }

    private static IResult GetStatusHandler(
        SnapshotHolder snapshots, ReloadStatus reload, DatabaseConnector database, EventSocketPublisher publisher, ClusterCoordinator cluster, TimeProvider time,
        AclConfAnswers acl, IOptionsMonitor<LimitsOptions> limits, AdminCaller caller, AdminAccess access) =>
        GetStatus(snapshots, reload, database, publisher, cluster, time, acl, limits, access.Enabled ? caller : null);
}

public sealed record StatusResponse(
    long? SnapshotVersion,
    DateTimeOffset? SnapshotLoadedAt,
    double? SnapshotAgeSeconds,
    int? UsableRules,
    int? Devices,
    int? Profiles,
    int? Problems,
    string? Detection,
    bool DatabaseReachable,
    string? LastDatabaseError,
    string DatabaseNode,
    IReadOnlyList<string> DatabaseHosts,
    EventSocketStatus EventSocket,
    ClusterStatus Cluster,
    IReadOnlyList<SipProfileStatus> SipProfiles,
    AclConfGuard? AclConf)
{
    /// <summary>Account call limits: whether they are on, and whom they would limit, and to what (null before the first snapshot).</summary>
    public LimitsPreview? Limits { get; init; }
}

/// <summary>
/// A served profile and how its IP-authenticated calls get in: <see cref="IpAuthMode"/> <c>acl</c> (its
/// customer list is in acl.conf, <see cref="CustomerAcl"/>) or <c>dialplan</c> (the dialplan answer alone).
/// </summary>
public sealed record SipProfileStatus(int Id, string Name, string IpAuthMode, bool CustomerAcl);

/// <summary><see cref="PushLockHeld"/>: this instance holds the push lease (of the instances sharing a database, exactly one does).</summary>
public sealed record EventSocketStatus(bool PushLockHeld, IReadOnlyList<EventSocketNodeStatus> Nodes);
