using FsDirectory.Admin;
using FsDirectory.Database;
using FsDirectory.Snapshots;
using Microsoft.Extensions.Options;

namespace FsDirectory.Limits;

/// <summary>
/// What turning Limits:Enabled on would do, before it is on: ASTPP gives new accounts
/// <c>maxchannels = 1</c>, so a histogram of the limits and the lowest ones show who would be cut.
/// <see cref="Accounts"/>: every active account (status 0, not deleted), limited by its own row on
/// each of its calls. <see cref="Resellers"/>: every active account that is the reseller of an active
/// account, whose limits apply to all its customers' calls together.
/// </summary>
public sealed record LimitsPreview(bool Enabled, string Backend, string HangupCause, LimitsGroup Accounts, LimitsGroup Resellers)
{
    /// <summary>How many of the lowest limits are listed.</summary>
    public const int LowestListed = 10;

    /// <summary>
    /// Over the snapshot's accounts (the rows the answers read), seen as <paramref name="caller"/> may
    /// see them: a reseller key counts its own customers, and of the resellers only itself. Null: everything.
    /// </summary>
    public static LimitsPreview Of(Snapshot snapshot, LimitsOptions options, AdminCaller? caller)
    {
        var resellerIds = new HashSet<int>();
        var accounts = new List<AccountRow>();
        foreach (var (_, account) in snapshot.Accounts.Entries)
        {
            if (!account.IsActive)
            {
                continue;
            }

            if (account.ResellerId is > 0 and var reseller)
            {
                resellerIds.Add(reseller);
            }

            if (caller is null || caller.CanSee(account.ResellerId))
            {
                accounts.Add(account);
            }
        }

        var resellers = resellerIds.Where(id => caller is null || id == caller.ResellerId)
            .Select(id => snapshot.Accounts.Find(id))
            .Where(static r => r is { IsActive: true })
            .Select(static r => r!)
            .ToList();
        return new LimitsPreview(options.Enabled, options.Backend, options.HangupCause, LimitsGroup.Of(accounts), LimitsGroup.Of(resellers));
    }
}

/// <param name="Total">Active accounts in the group.</param>
/// <param name="Limited">Of them, those with a channel or a rate limit (either above 0).</param>
/// <param name="Channels">How many have each <c>maxchannels</c>, in ranges; "unlimited" is 0.</param>
/// <param name="Cps">The same for <c>cps</c>.</param>
/// <param name="LowestChannels">The lowest channel limits above 0, lowest first (then by id).</param>
/// <param name="LowestCps">The lowest rate limits above 0.</param>
public sealed record LimitsGroup(
    int Total, int Limited, IReadOnlyList<LimitsBucket> Channels, IReadOnlyList<LimitsBucket> Cps,
    IReadOnlyList<LimitedAccount> LowestChannels, IReadOnlyList<LimitedAccount> LowestCps)
{
    /// <summary>The histogram's ranges: the lower bound of each (0 = unlimited).</summary>
    public static readonly int[] Ranges = [0, 1, 2, 5, 10, 30, 100];

    public static LimitsGroup Of(IReadOnlyCollection<AccountRow> accounts) =>
        new(accounts.Count,
            accounts.Count(static a => a.MaxChannels > 0 || a.Cps > 0),
            Histogram(accounts.Select(static a => a.MaxChannels)),
            Histogram(accounts.Select(static a => a.Cps)),
            Lowest(accounts, static a => a.MaxChannels),
            Lowest(accounts, static a => a.Cps));

    /// <summary>The range a limit falls in, as the histogram names it.</summary>
    public static string RangeOf(int limit)
    {
        if (limit <= 0)
        {
            return "unlimited";
        }

        var i = Array.FindLastIndex(Ranges, r => r <= limit);
        var low = Ranges[i];
        return i == Ranges.Length - 1 ? $"{low}+" : Ranges[i + 1] - 1 == low ? $"{low}" : $"{low}-{Ranges[i + 1] - 1}";
    }

    private static List<LimitsBucket> Histogram(IEnumerable<int> limits)
    {
        var counts = limits.GroupBy(RangeOf).ToDictionary(static g => g.Key, static g => g.Count());
        return [.. Ranges.Select(static r => RangeOf(r)).Select(range => new LimitsBucket(range, counts.GetValueOrDefault(range)))];
    }

    private static List<LimitedAccount> Lowest(IEnumerable<AccountRow> accounts, Func<AccountRow, int> limit) =>
        [.. accounts.Where(a => limit(a) > 0).OrderBy(limit).ThenBy(static a => a.Id).Take(LimitsPreview.LowestListed)
            .Select(static a => new LimitedAccount(a.Id, a.Number ?? string.Empty, a.MaxChannels, a.Cps))];
}

public sealed record LimitsBucket(string Range, int Accounts);

public sealed record LimitedAccount(int Id, string Number, int MaxChannels, int Cps);

/// <summary>The limits one explained call would get (<c>/api/ip-auth/resolve</c>).</summary>
/// <param name="Applied">Limits:Enabled: the answer carries <see cref="Actions"/> now; false: it would once enabled.</param>
/// <param name="Actions">The <c>limit</c> applications' data, in the answer's order (after <c>limit_ignore_transfer=true</c>).</param>
public sealed record CallLimitsView(bool Applied, int AccountId, int MaxChannels, int Cps, int? ResellerId, int? ResellerMaxChannels, int? ResellerCps,
    IReadOnlyList<string> Actions)
{
    public static CallLimitsView Of(Snapshot snapshot, int accountId, LimitsOptions options)
    {
        var limits = CallLimits.Of(snapshot, accountId);
        var reseller = limits.ResellerId > 0;
        return new CallLimitsView(options.Enabled, accountId, limits.AccountChannels, limits.AccountCps,
            reseller ? limits.ResellerId : null, reseller ? limits.ResellerChannels : null, reseller ? limits.ResellerCps : null,
            [.. limits.Actions(options)]);
    }
}

/// <summary>GET /api/limits: the roll-out preview alone (also part of /api/status).</summary>
public static class LimitsApi
{
    public static RouteGroupBuilder MapLimits(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/limits").WithTags("Call limits");
        group.MapGet("/", GetPreview).AddEndpointFilter(AdminAccess.RequireKeyOrLoopback);
        return group;
    }

    public static IResult GetPreview(AdminCaller caller, AdminAccess access, SnapshotHolder snapshots, IOptionsMonitor<LimitsOptions> options) =>
        snapshots.Current is { } snapshot
            ? Results.Ok(Preview(snapshot, options.CurrentValue, access.Enabled ? caller : null))
            : Results.Problem("No data loaded yet.", statusCode: StatusCodes.Status503ServiceUnavailable);

    /// <summary>The unscoped preview is worked out once per snapshot (a pass over every account); a reseller's on each request.</summary>
    public static LimitsPreview Preview(Snapshot snapshot, LimitsOptions options, AdminCaller? caller) =>
        caller is null || caller.IsOperator
            ? snapshot.Answer($"limits#preview#{options.Enabled}#{options.Backend}#{options.HangupCause}", s => LimitsPreview.Of(s, options, null))
            : LimitsPreview.Of(snapshot, options, caller);
}
