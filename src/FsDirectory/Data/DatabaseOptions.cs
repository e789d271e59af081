using System.ComponentModel.DataAnnotations;

namespace FsDirectory.Data;

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

    /// <summary>How often CHECKSUM TABLE is polled when the triggers are absent (fallback; it reads every row).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan ChecksumPollInterval { get; set; } = TimeSpan.FromSeconds(5);
}
