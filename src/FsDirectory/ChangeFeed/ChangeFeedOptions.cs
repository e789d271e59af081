using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

using FsDirectory.Snapshots;

namespace FsDirectory.ChangeFeed;

/// <summary>How row changes from <c>fsdir_change_feed</c> (sql/migrations/007) are applied, kept and checked.</summary>
public sealed class ChangeFeedOptions
{
    public const string Section = "ChangeFeed";

    /// <summary>
    /// Apply changed rows to the live snapshot (true), or re-read every changed table whole as before
    /// the feed existed (false: a million-rule table then takes seconds per edit; kept to compare and as a safety switch).
    /// </summary>
    public bool ApplyRowChanges { get; set; } = true;

    /// <summary>How long a skipped feed id is watched for a late commit (a longer-running transaction is caught by the self-check).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan LateCommitWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Feed rows older than this are deleted; an instance that could not read the feed for that long rebuilds in full.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the live snapshot is compared with the tables (streamed, no second snapshot); 00:00:00 turns it off.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan SelfCheckInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// After applied edits, a background gen2 collection at most this often, so that the snapshots
    /// they replaced do not pile up in memory; edits that come sooner are collected when the interval
    /// is up (see <see cref="Data.ReplacedSnapshotCollector"/>). 00:00:00 leaves it to the GC.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan CollectReplacedSnapshots { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often this instance deletes feed rows past <see cref="Retention"/> (any instance may; the delete is idempotent).</summary>
    public TimeSpan TrimInterval => TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(1).Ticks, Retention.Ticks / 4));
}

/// <summary>Refuses settings under which a trimmed feed could be mistaken for a complete one.</summary>
public sealed class ChangeFeedOptionsValidator : IValidateOptions<ChangeFeedOptions>
{
    public ValidateOptionsResult Validate(string? name, ChangeFeedOptions options)
    {
        var errors = new List<string>();
        if (options.Retention < options.LateCommitWindow * 4)
        {
            errors.Add($"ChangeFeed:Retention ({options.Retention}) must be at least four times ChangeFeed:LateCommitWindow ({options.LateCommitWindow})");
        }

        if (options.SelfCheckInterval != TimeSpan.Zero && options.SelfCheckInterval < TimeSpan.FromMinutes(1))
        {
            errors.Add("ChangeFeed:SelfCheckInterval must be 00:00:00 (off) or at least one minute (each check reads every row)");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
