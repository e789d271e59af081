using FsDirectory.Database;
using FsDirectory.Metrics;
using Microsoft.Extensions.Options;
using Prometheus;

namespace FsDirectory.Audit;

/// <summary>
/// Deletes audit records older than <see cref="AuditOptions.Retention"/>: <see cref="AuditOptions.TrimBatchSize"/> rows per
/// statement, <see cref="AuditOptions.TrimPause"/> between statements, so the table is never locked for long.
/// </summary>
public sealed class AuditTrimmer(
    DatabaseConnector database,
    AuditStore store,
    IOptionsMonitor<AuditOptions> options,
    IOptionsMonitor<DatabaseOptions> databaseOptions,
    FsDirectoryMetrics metrics,
    TimeProvider time,
    ILogger<AuditTrimmer> logger) : BatchTrimmer(time, logger)
{
    protected override string What => "Audit trail";

    protected override TimeSpan Interval => options.CurrentValue.TrimInterval;

    protected override Counter Deleted => metrics.AuditRowsTrimmed;

    protected override Task<int> TrimAsync(CancellationToken ct)
    {
        var settings = options.CurrentValue;
        var timeout = databaseOptions.CurrentValue.LoadTimeoutSeconds;
        return database.RunAsync(connection => InBatchesAsync(
            () => store.TrimBatchAsync(connection, settings.Retention, settings.TrimBatchSize, timeout, ct),
            settings.TrimBatchSize, settings.TrimPause, Time, ct), ct);
    }
}
