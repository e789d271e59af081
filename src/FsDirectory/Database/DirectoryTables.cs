using FsDirectory.Snapshots;

namespace FsDirectory.Database;

/// <summary>The tables a snapshot is built from, named as the change-feed triggers name them.</summary>
public static class DirectoryTables
{
    public const string Accounts = "accounts";
    public const string IpMap = "ip_map";
    public const string SipDevices = "sip_devices";
    public const string SipProfiles = "sip_profiles";
    public const string Gateways = "gateways";
    public const string System = "system";
    public const string TrustedProxies = "fsdir_trusted_proxies";

    /// <summary>
    /// Every table whose rows feed the snapshot, each with an insert, an update and a delete trigger
    /// writing to <c>fsdir_change_feed</c> (sql/migrations/007). Watching one more table takes its
    /// three triggers in a migration, its name here, and a line in <see cref="SnapshotPatcher"/>
    /// saying how its changes are applied (a small table is simply re-read whole, see <see cref="ReadWhole"/>).
    /// </summary>
    public static readonly IReadOnlyList<string> Watched = [Accounts, IpMap, SipDevices, SipProfiles, Gateways, System, TrustedProxies];

    /// <summary>Small tables that are re-read whole when any of their rows changes.</summary>
    public static readonly IReadOnlyList<string> ReadWhole = [SipProfiles, Gateways, System, TrustedProxies];

    /// <summary>The triggers that must exist for the change feed to be complete: one per watched table and event.</summary>
    public static int ExpectedTriggerCount => Watched.Count * 3;
}
