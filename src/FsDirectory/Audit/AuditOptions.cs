using System.ComponentModel.DataAnnotations;

namespace FsDirectory.Audit;

/// <summary>How long audit records (<c>fsdir_audit</c>, sql/migrations/009) are kept, and how they are deleted after that.</summary>
public sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>Records older than this are deleted in the background.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(400);

    /// <summary>How often this instance looks for records past <see cref="Retention"/> (any instance may delete them; the delete is idempotent).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan TrimInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Rows per DELETE: each batch is its own short transaction, so an admin write never waits long behind it.</summary>
    [Range(1, 10_000)]
    public int TrimBatchSize { get; set; } = 1000;

    /// <summary>The pause between two batches, leaving the table (and a Galera cluster's replication) to the writes.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan TrimPause { get; set; } = TimeSpan.FromMilliseconds(200);
}
