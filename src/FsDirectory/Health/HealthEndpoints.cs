using FsDirectory.Snapshots;

namespace FsDirectory.Health;

public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/health").WithTags("Health");
        group.MapGet("/live", Live);
        group.MapGet("/ready", Ready);
        return app;
    }

    public static IResult Live() => Results.Ok(new { status = "live" });

    /// <summary>
    /// Ready = answer me now: a snapshot is loaded and the host is not stopping. It is the load
    /// balancer's check (freeswitch-conf/haproxy): it reads two fields in memory, never the database,
    /// so it costs nothing at a check every 500 ms, and an instance that cannot answer FreeSWITCH
    /// promptly (hung, stopped, starved) cannot answer it either, which is what ejects it. Every answer
    /// comes from the snapshot, so an instance that has one answers FreeSWITCH correctly even while
    /// the database is down. Failing readiness then would make a load balancer pull every instance at
    /// once and send the switches to their static XML, which is the outage the snapshot exists to ride
    /// out; the body says "degraded" instead, and <c>fsdir_database_reachable</c> in /metrics is what
    /// to alert on. From SIGTERM on it answers 503 ("stopping"), so the balancer stops sending fetches
    /// while the host drains the ones in flight.
    /// </summary>
    public static IResult Ready(SnapshotHolder snapshots, ReloadStatus reload, IHostApplicationLifetime lifetime, TimeProvider time)
    {
        var snapshot = snapshots.Current;
        var stopping = lifetime.ApplicationStopping.IsCancellationRequested;
        var body = new
        {
            status = snapshot is null ? "not ready" : stopping ? "stopping" : reload.DatabaseReachable ? "ready" : "degraded",
            snapshotLoaded = snapshot is not null,
            snapshotVersion = snapshot?.Version,
            snapshotAgeSeconds = snapshot is null ? (double?)null : (time.GetUtcNow() - snapshot.LoadedAt).TotalSeconds,
            databaseReachable = reload.DatabaseReachable,
            // From the poll loop's last successful statement: readiness itself never waits on the database.
            lastDatabaseContactAgeSeconds = reload.LastDatabaseContact is { } contact ? (time.GetUtcNow() - contact).TotalSeconds : (double?)null,
            lastError = reload.LastError,
        };
        return snapshot is not null && !stopping
            ? Results.Ok(body)
            : Results.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
