using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace FsDirectory.Limits;

/// <summary>
/// Account call limits (<c>accounts.maxchannels</c>, <c>accounts.cps</c>) applied by the switch on
/// IP-authenticated calls (and, through the directory's user variables, on devices). Off until
/// <see cref="Enabled"/>: ASTPP gives new accounts <c>maxchannels = 1</c>, so switching it on blindly
/// could cut live customers to one call; the status page shows what would be limited first.
/// </summary>
public sealed class LimitsOptions
{
    public const string Section = "Limits";

    /// <summary>Dialplan answers apply the limits, directory answers carry them, and hash.conf lists the other switches.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// The limit backend for concurrent calls: <c>hash</c> (mod_hash, in memory, counted across the
    /// switches through hash.conf's remotes) or <c>db</c> (mod_db: per switch unless every switch shares
    /// one ODBC database). Calls per second always use <c>hash</c>: mod_db has no rate limit (it ignores
    /// the <c>/interval</c> and would count the rate as concurrent calls).
    /// </summary>
    [RegularExpression("^(hash|db)$")]
    public string Backend { get; set; } = "hash";

    /// <summary>The cause a call over a limit is hung up with (FreeSWITCH's cause name, as ASTPP: SWITCH_CONGESTION).</summary>
    [RegularExpression("^[A-Z][A-Z0-9_]{0,63}$")]
    public string HangupCause { get; set; } = "SWITCH_CONGESTION";

    /// <summary>
    /// hash.conf's <c>interval</c>: how often each switch polls every other switch's usage
    /// (<c>hash_dump limit</c> over its Event Socket). Usage on another switch is seen this late.
    /// mod_hash sleeps exactly this long between polls, so 0 would spin: at least 100 ms.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan RemoteInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The concurrent-call backend as the <c>limit</c> application names it.</summary>
    public bool UsesHash => Backend == "hash";
}
