using FsDirectory.Data;

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

    /// <summary>Ready = data loaded and the database answered recently; the body says which part is missing.</summary>
    public static IResult Ready(SnapshotHolder snapshots, ReloadStatus reload, TimeProvider time)
    {
        var snapshot = snapshots.Current;
        var body = new
        {
            status = snapshot is not null && reload.DatabaseReachable ? "ready" : "not ready",
            snapshotLoaded = snapshot is not null,
            snapshotVersion = snapshot?.Version,
            snapshotAgeSeconds = snapshot is null ? (double?)null : (time.GetUtcNow() - snapshot.LoadedAt).TotalSeconds,
            databaseReachable = reload.DatabaseReachable,
            // From the poll loop's last successful statement: readiness itself never waits on the database.
            lastDatabaseContactAgeSeconds = reload.LastDatabaseContact is { } contact ? (time.GetUtcNow() - contact).TotalSeconds : (double?)null,
            lastError = reload.LastError,
        };
        return snapshot is not null && reload.DatabaseReachable
            ? Results.Ok(body)
            : Results.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
