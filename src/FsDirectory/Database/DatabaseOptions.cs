using System.ComponentModel.DataAnnotations;


namespace FsDirectory.Database;

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>Connect budget. FreeSWITCH never waits on the database (answers come from the snapshot), but health checks and admin calls do.</summary>
    [Range(1, 60)]
    public int ConnectTimeoutSeconds { get; set; } = 3;

    /// <summary>Budget for one full snapshot read (1M rules take a few seconds).</summary>
    [Range(1, 600)]
    public int LoadTimeoutSeconds { get; set; } = 60;

    /// <summary>
    /// Budget for one cheap statement (change-token poll, trigger detection). Kept well under
    /// FreeSWITCH's binding timeout so a hung server is noticed, and reported, within seconds.
    /// </summary>
    [Range(1, 60)]
    public int PollTimeoutSeconds { get; set; } = 2;

    /// <summary>How often the change-version row is polled when the triggers are installed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How often CHECKSUM TABLE is polled when the triggers are absent (fallback). It reads every row,
    /// so the interval stretches to five times the last checksum's duration on large tables.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan ChecksumPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// With several hosts in the connection string: how often an instance that moved away from a
    /// host listed earlier checks whether that host answers again, and moves back if it does.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan FailbackInterval { get; set; } = TimeSpan.FromSeconds(30);
}
