using System.Runtime.CompilerServices;
using FsDirectory.Admin;
using FsDirectory.Data;
using FsDirectory.IpAuth;

namespace FsDirectory.AdminConsole;

/// <summary>Whether a rule of the list is used by /freeswitch right now, and if not, why: read from the live snapshot.</summary>
public sealed record RuleState(bool Usable, string Label, string? Detail, int? OtherRuleId);

/// <summary>
/// Per snapshot (computed once, dropped with it): the unusable rows with the snapshot's reason. Ties and
/// shadowing are looked up per row through the index (<see cref="IpRuleAnalysis.OverlapOf"/>), so a page
/// costs the same at a thousand rules as at a million.
/// </summary>
public sealed class RuleHealth
{
    private static readonly ConditionalWeakTable<Snapshot, RuleHealth> Cache = [];

    private readonly Snapshot _snapshot;
    private readonly Dictionary<int, string> _unusable;

    private RuleHealth(Snapshot snapshot)
    {
        _snapshot = snapshot;
        _unusable = [];
        foreach (var problem in snapshot.Problems.Where(p => p.Table == "ip_map"))
        {
            _unusable.TryAdd((int)problem.RowId, problem.Problem);
        }
    }

    public static RuleHealth Of(Snapshot snapshot) => Cache.GetValue(snapshot, static s => new RuleHealth(s));

    public RuleState StateOf(IpSetting rule)
    {
        if (rule.Status != 0)
        {
            return new RuleState(false, "Inactive", "status is inactive", null);
        }

        if (_unusable.TryGetValue(rule.Id, out var problem))
        {
            return new RuleState(false, "Unusable", problem, null);
        }

        if (Find(rule.Id) is not { } usable)
        {
            // Written after the snapshot was built (by plain SQL; admin writes rebuild it before they answer).
            return new RuleState(false, "Not loaded yet", "the next snapshot (within a second) will include it", null);
        }

        return IpRuleAnalysis.OverlapOf(_snapshot, usable) is { } overlap
            ? new RuleState(false, overlap.Kind == "tie" ? "Tie" : "Shadowed", overlap.Problem, overlap.OtherRuleId)
            : new RuleState(true, "Usable", null, null);
    }

    /// <summary>The usable rules are kept in id order (ip_map is read ORDER BY id), so a binary search finds one.</summary>
    private IpRule? Find(int id)
    {
        var rules = _snapshot.UsableRules;
        int low = 0, high = rules.Count - 1;
        while (low <= high)
        {
            var middle = low + ((high - low) / 2);
            var current = rules[middle].Id;
            if (current == id)
            {
                return rules[middle];
            }

            if (current < id)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return null;
    }
}
