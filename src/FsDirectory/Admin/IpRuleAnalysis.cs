using FsDirectory.IpAuth;
using FsDirectory.Snapshots;

namespace FsDirectory.Admin;

/// <summary>One problem of one <c>ip_map</c> row. Kind: <c>unusable</c>, <c>tie</c> or <c>shadowed</c>.</summary>
public sealed record IpSettingProblem(int RuleId, string Kind, string Problem, int? OtherRuleId);

/// <summary>
/// Problems among usable rules. The matcher ranks by longest prefix, then longest mask, then lowest id,
/// so a rule R can only lose every call it matches to a rule W with the same network and the same prefix
/// (a shorter prefix or a wider network always ranks below R) and a lower id, when W applies on every
/// profile R applies on (same effective profile, or W bound to no profile at all).
/// Such an R is a <c>tie</c> when W has the same effective profile and another account (only the id decides
/// which customer is billed), and <c>shadowed</c> otherwise (same account, or W covers more profiles).
/// </summary>
public static class IpRuleAnalysis
{
    /// <param name="caller">Who reads the problems: a rule it may not see is not named in them. Null: the operator's view.</param>
    public static List<IpSettingProblem> Analyse(Snapshot snapshot, AdminCaller? caller = null)
    {
        var problems = snapshot.Problems
            .Where(p => p.Table == "ip_map")
            .Select(p => new IpSettingProblem((int)p.RowId, "unusable", p.Problem, null))
            .ToList();
        problems.AddRange(Overlaps(snapshot.UsableRules, caller));
        problems.Sort(static (a, b) => a.RuleId.CompareTo(b.RuleId));
        return problems;
    }

    public static IEnumerable<IpSettingProblem> Overlaps(IEnumerable<IpRule> rules, AdminCaller? caller = null)
    {
        foreach (var group in rules.GroupBy(r => (r.Network, r.Prefix)).Where(g => g.Count() > 1))
        {
            var ordered = group.OrderBy(r => r.Id).ToList();
            for (var i = 1; i < ordered.Count; i++)
            {
                var rule = ordered[i];
                var winner = ordered.Take(i).FirstOrDefault(w => w.AppliesToProfile(rule.Profile));
                if (winner is not null)
                {
                    yield return Overlap(rule, winner, caller);
                }
            }
        }
    }

    /// <summary>
    /// The tie or shadowing of one usable rule, found through the snapshot's index (the rules that contain its
    /// network and prefix), so a page of the list costs a lookup per row instead of grouping every rule.
    /// </summary>
    public static IpSettingProblem? OverlapOf(Snapshot snapshot, IpRule rule, AdminCaller? caller = null)
    {
        var winner = snapshot.Rules.Candidates(new IpAddressKey(rule.Network.First, rule.Network.IsV4), rule.Prefix, rule.Profile)
            .Where(w => w.Id < rule.Id && w.Network == rule.Network && string.Equals(w.Prefix, rule.Prefix, StringComparison.Ordinal))
            .MinBy(w => w.Id);
        return winner is null ? null : Overlap(rule, winner, caller);
    }

    private static IpSettingProblem Overlap(IpRule rule, IpRule winner, AdminCaller? caller)
    {
        var profile = rule.Profile ?? "every profile";
        var tie = string.Equals(winner.Profile, rule.Profile, StringComparison.Ordinal) && winner.AccountId != rule.AccountId;
        // A reseller must learn that its rule loses, but not whose rule wins (nor its id or account).
        var visible = caller is null || caller.CanSee(winner);
        var other = visible ? $"rule {winner.Id} (account {winner.AccountId})" : "a rule you cannot see (another reseller's account)";
        var otherId = visible ? winner.Id : (int?)null;
        return tie
            ? new IpSettingProblem(rule.Id, "tie",
                $"ties with {other} on {rule.Network}, prefix '{rule.Prefix}', profile {profile}: {(visible ? $"rule {winner.Id}" : "that rule")} always wins only because its id is lower, so account {rule.AccountId} is never billed",
                otherId)
            : new IpSettingProblem(rule.Id, "shadowed",
                $"never matches: {other} has the same network {rule.Network} and prefix '{rule.Prefix}', applies on {winner.Profile ?? "every profile"} and wins by its lower id",
                otherId);
    }
}
