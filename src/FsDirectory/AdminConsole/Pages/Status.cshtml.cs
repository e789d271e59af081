using FsDirectory.Acl;
using FsDirectory.Cluster;
using FsDirectory.Database;
using FsDirectory.EventSocket;
using FsDirectory.Limits;
using FsDirectory.Snapshots;
using FsDirectory.Status;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace FsDirectory.AdminConsole.Pages;

/// <summary>Switch status: exactly what GET /api/status returns, rendered.</summary>
public sealed class StatusModel(
    SnapshotHolder snapshots, ReloadStatus reload, DatabaseConnector database, EventSocketPublisher publisher, ClusterCoordinator cluster, TimeProvider time,
    AclConfAnswers acl, IOptionsMonitor<LimitsOptions> limits)
    : ConsolePageModel
{
    public StatusResponse Status { get; private set; } = null!;

    public void OnGet() =>
        Status = StatusApi.GetStatus(snapshots, reload, database, publisher, cluster, time, acl, limits, Caller) is Ok<StatusResponse> ok
            ? ok.Value!
            : throw new InvalidOperationException("GET /api/status did not produce a StatusResponse");

    public static string When(DateTimeOffset? at) =>
        at is { } value ? value.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture) : "never";
}
