using System.Globalization;
using FsDirectory.Xml;

namespace FsDirectory.Limits;

/// <summary>
/// The limits one call gets: its account's <c>maxchannels</c> and <c>cps</c>, and its reseller's
/// (the <c>accounts</c> row of <c>reseller_id</c>), read from the snapshot on each call so an edit
/// takes effect on the next call. 0 (or less) is unlimited, as in ASTPP.
/// </summary>
/// <param name="ResellerId">0: the operator's own account, no reseller limits.</param>
public readonly record struct CallLimits(int AccountId, int AccountChannels, int AccountCps, int ResellerId, int ResellerChannels, int ResellerCps)
{
    /// <summary>
    /// Realm of the concurrent-call counters, one resource per account (<c>account_&lt;accounts.id&gt;</c>).
    /// ASTPP names them by account number (<c>limit db &lt;number&gt; user_&lt;number&gt;</c>); the row id
    /// never changes and cannot clash with another account's, whatever characters numbers hold. A
    /// reseller's counter is its own account's: its customers' calls and its own count together, as in ASTPP.
    /// mod_hash keys it as <c>fsdir_channels_account_&lt;id&gt;</c> (realm, underscore, resource).
    /// </summary>
    public const string ChannelsRealm = "fsdir_channels";

    /// <summary>Realm of the calls-per-second counters (ASTPP: <c>CPS_&lt;number&gt; CPS_user_&lt;number&gt;</c>).</summary>
    public const string CpsRealm = "fsdir_cps";

    public static CallLimits None => default;

    public bool Any => AccountChannels > 0 || AccountCps > 0 || (ResellerId > 0 && (ResellerChannels > 0 || ResellerCps > 0));

    /// <summary>The limits of <paramref name="accountId"/> and of its reseller, as the snapshot has them.</summary>
    public static CallLimits Of(Snapshots.Snapshot snapshot, int accountId)
    {
        if (snapshot.Accounts.Find(accountId) is not { } account)
        {
            return new CallLimits(accountId, 0, 0, 0, 0, 0);
        }

        var resellerId = account.ResellerId is > 0 and var id ? id : 0;
        var reseller = resellerId > 0 ? snapshot.Accounts.Find(resellerId) : null;
        return new CallLimits(accountId, Math.Max(0, account.MaxChannels), Math.Max(0, account.Cps),
            resellerId, Math.Max(0, reseller?.MaxChannels ?? 0), Math.Max(0, reseller?.Cps ?? 0));
    }

    public static string Resource(int accountId) => "account_" + accountId.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The <c>limit</c> applications' data in the order the answer runs them: the account's, then the
    /// reseller's; concurrent calls before the rate (a refused rate check still counts, mod_hash
    /// increments the rate on every check). Empty when nothing is limited.
    /// </summary>
    public IEnumerable<string> Actions(LimitsOptions options)
    {
        var cause = "!" + options.HangupCause;
        if (AccountChannels > 0)
        {
            yield return Channels(options.Backend, AccountId, AccountChannels, cause);
        }

        if (AccountCps > 0)
        {
            yield return Rate(AccountId, AccountCps, cause);
        }

        if (ResellerId > 0 && ResellerChannels > 0)
        {
            yield return Channels(options.Backend, ResellerId, ResellerChannels, cause);
        }

        if (ResellerId > 0 && ResellerCps > 0)
        {
            yield return Rate(ResellerId, ResellerCps, cause);
        }
    }

    /// <summary>
    /// Writes the limits before the answer's <c>transfer</c>: first <c>limit_ignore_transfer=true</c>,
    /// because switch_limit.c releases a channel's limits when it goes back to ROUTING, which the
    /// transfer does; then one <c>limit</c> per limit. A call over one is hung up with the cause
    /// (<c>!CAUSE</c>), and the dialplan stops there: no transfer. Returns whether anything was written.
    /// </summary>
    public bool Write(FsXmlWriter xml, LimitsOptions options)
    {
        if (!Any)
        {
            return false;
        }

        xml.Start("action").Attr("application", "set").Attr("data", "limit_ignore_transfer=true").Close();
        foreach (var data in Actions(options))
        {
            xml.Start("action").Attr("application", "limit").Attr("data", data).Close();
        }

        return true;
    }

    // `limit <backend> <realm> <resource> <max> !<cause>` (mod_dptools: a max without /interval counts concurrent calls).
    private static string Channels(string backend, int accountId, int max, string cause) =>
        string.Create(CultureInfo.InvariantCulture, $"{backend} {ChannelsRealm} account_{accountId} {max} {cause}");

    // `limit hash <realm> <resource> <max>/1 !<cause>`: at most max calls started in any one second.
    private static string Rate(int accountId, int max, string cause) =>
        string.Create(CultureInfo.InvariantCulture, $"hash {CpsRealm} account_{accountId} {max}/1 {cause}");
}
