using System.Buffers.Text;
using System.Text;
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

    /// <summary>
    /// The <c>limit</c> applications' data in the order the answer runs them: the account's, then the
    /// reseller's; concurrent calls before the rate: mod_hash counts every rate check, so a call refused
    /// for its channels is then not also counted against the rate. Empty when nothing is limited.
    /// </summary>
    public IReadOnlyList<string> Actions(LimitsOptions options)
    {
        var actions = new List<string>(4);
        Span<byte> data = stackalloc byte[MaxData];
        for (var i = 0; i < 4; i++)
        {
            if (Format(i, data, options) is > 0 and var length)
            {
                actions.Add(Encoding.ASCII.GetString(data[..length]));
            }
        }

        return actions;
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

        // On every limited call, so written as the writer would write them, but straight from UTF-8: the
        // data needs no escaping (numbers, fixed names, and a backend and cause validated at start-up to
        // letters, digits and '_'), and escaping it char by char cost more than the rest of the answer's growth.
        xml.Fragment(IgnoreTransferAction);
        Span<byte> action = stackalloc byte[LimitActionStart.Length + MaxData + LimitActionEnd.Length];
        LimitActionStart.CopyTo(action);
        for (var i = 0; i < 4; i++)
        {
            if (Format(i, action[LimitActionStart.Length..^LimitActionEnd.Length], options) is > 0 and var length)
            {
                LimitActionEnd.CopyTo(action[(LimitActionStart.Length + length)..]);
                xml.Fragment(action[..(LimitActionStart.Length + length + LimitActionEnd.Length)]);
            }
        }

        return true;
    }

    /// <summary>
    /// The limits as directory user variables, for a digest-authenticated call that the operator's
    /// static dialplan routes (freeswitch-conf/dialplan/fsdir_limits.xml applies them): only those
    /// above 0, and nothing when nothing is limited. Names start with <c>fsdir_</c>, which a device's
    /// own dir_vars can never set.
    /// </summary>
    public void WriteVariables(FsXmlWriter xml, LimitsOptions options)
    {
        if (!Any)
        {
            return;
        }

        Variable(xml, "fsdir_limits", "true");
        Variable(xml, "fsdir_limit_backend", options.Backend);
        Variable(xml, "fsdir_limit_cause", options.HangupCause);
        Number(xml, "fsdir_limit_channels", AccountChannels);
        Number(xml, "fsdir_limit_cps", AccountCps);
        if (ResellerId > 0)
        {
            Number(xml, "fsdir_limit_reseller_id", ResellerChannels > 0 || ResellerCps > 0 ? ResellerId : 0);
            Number(xml, "fsdir_limit_reseller_channels", ResellerChannels);
            Number(xml, "fsdir_limit_reseller_cps", ResellerCps);
        }

        static void Variable(FsXmlWriter xml, string name, string value) => xml.Start("variable").Attr("name", name).Attr("value", value).Close();

        static void Number(FsXmlWriter xml, string name, int value)
        {
            if (value > 0)
            {
                xml.Start("variable").Attr("name", name).Attr("value", value).Close();
            }
        }
    }

    // The longest data: a 64-character cause (validated at start-up) and 10-digit numbers.
    private const int MaxData = 128;

    private static readonly byte[] HashChannelsPrefix = Encoding.ASCII.GetBytes($"hash {ChannelsRealm} account_");
    private static readonly byte[] DbChannelsPrefix = Encoding.ASCII.GetBytes($"db {ChannelsRealm} account_");
    private static readonly byte[] RatePrefix = Encoding.ASCII.GetBytes($"hash {CpsRealm} account_");

    private static ReadOnlySpan<byte> IgnoreTransferAction => "<action application=\"set\" data=\"limit_ignore_transfer=true\"/>\n"u8;

    private static ReadOnlySpan<byte> LimitActionStart => "<action application=\"limit\" data=\""u8;

    private static ReadOnlySpan<byte> LimitActionEnd => "\"/>\n"u8;

    /// <summary>
    /// The data of limit <paramref name="index"/> (account channels, account rate, reseller channels,
    /// reseller rate) into <paramref name="data"/> as ASCII; its length, or 0 when that one is unlimited.
    /// Channels: <c>limit &lt;backend&gt; &lt;realm&gt; &lt;resource&gt; &lt;max&gt; !&lt;cause&gt;</c> (a max without
    /// /interval counts concurrent calls). Rate: <c>limit hash &lt;realm&gt; &lt;resource&gt; &lt;max&gt;/1 !&lt;cause&gt;</c>,
    /// at most max calls started in any one second.
    /// </summary>
    private int Format(int index, Span<byte> data, LimitsOptions options)
    {
        var (id, max) = index < 2 ? (AccountId, index == 0 ? AccountChannels : AccountCps) : (ResellerId, index == 2 ? ResellerChannels : ResellerCps);
        if (id <= 0 || max <= 0)
        {
            return 0;
        }

        // Piece by piece rather than through an interpolated string: this runs up to four times on every limited call.
        var rate = index % 2 == 1;
        var length = Append(data, 0, rate ? RatePrefix : options.UsesHash ? HashChannelsPrefix : DbChannelsPrefix);
        length += Utf8Formatter.TryFormat(id, data[length..], out var n) ? n : throw new InvalidOperationException("limit data too long");
        length = Append(data, length, " "u8);
        length += Utf8Formatter.TryFormat(max, data[length..], out n) ? n : throw new InvalidOperationException("limit data too long");
        length = Append(data, length, rate ? "/1 !"u8 : " !"u8);
        return length + Encoding.ASCII.GetBytes(options.HangupCause, data[length..]);
    }

    private static int Append(Span<byte> data, int at, ReadOnlySpan<byte> text)
    {
        text.CopyTo(data[at..]);
        return at + text.Length;
    }
}
