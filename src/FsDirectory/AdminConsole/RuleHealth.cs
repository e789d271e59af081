using System.Runtime.CompilerServices;
using FsDirectory.Admin;
using FsDirectory.Data;
using FsDirectory.IpAuth;

namespace FsDirectory.AdminConsole;

/// <summary>Whether a rule of the list is used by /freeswitch right now, and if not, why: read from the live snapshot.</summary>
public sealed record RuleState(bool Usable, string Label, string? Detail, int? OtherRuleId);

/// <summary>
/// Per snapshot (dropped with it): the unusable rows with the snapshot's reason. Ties and
/// shadowing are looked up per row through the index (<see cref="IpRuleAnalysis.OverlapOf"/>), so a page
/// costs the same at a thousand rules as at a million.
/// </summary>
public sealed class RuleHealth
{
    private static readonly ConditionalWeakTable<Snapshot, RuleHealth> Cache = [];

    private readonly Snapshot _snapshot;

    private RuleHealth(Snapshot snapshot) => _snapshot = snapshot;

    public static RuleHealth Of(Snapshot snapshot) => Cache.GetValue(snapshot, static s => new RuleHealth(s));

    public RuleState StateOf(IpSetting rule)
    {
        if (rule.Status != 0)
        {
            return new RuleState(false, "Inactive", "status is inactive", null);
        }

        if (_snapshot.RuleProblems.Find(rule.Id) is { } problem)
        {
            return new RuleState(false, "Unusable", problem, null);
        }

        if (_snapshot.UsableRules.Find(rule.Id) is not { } usable)
        {
            // Written after the snapshot was built (by plain SQL; admin writes rebuild it before they answer).
            return new RuleState(false, "Not loaded yet", "the next snapshot (within a second) will include it", null);
        }

        return IpRuleAnalysis.OverlapOf(_snapshot, usable) is { } overlap
            ? new RuleState(false, overlap.Kind == "tie" ? "Tie" : "Shadowed", overlap.Problem, overlap.OtherRuleId)
            : new RuleState(true, "Usable", null, null);
    }
}
