using FsDirectory.Admin;
using FsDirectory.IpAuth;
using FsDirectory.Snapshots;

namespace FsDirectory.AdminConsole;

/// <summary>Whether a rule of the list is used by /freeswitch right now, and if not, why: read from the live snapshot.</summary>
public sealed record RuleState(bool Usable, string Label, string? Detail, int? OtherRuleId);

/// <summary>
/// A rule's state in one snapshot: its problem from the snapshot's own table, ties and shadowing
/// looked up through the index (<see cref="IpRuleAnalysis.OverlapOf"/>), so a page costs the same at
/// a thousand rules as at a million.
/// </summary>
public sealed class RuleHealth
{
    private readonly Snapshot _snapshot;
    private readonly AdminCaller _caller;

    private RuleHealth(Snapshot snapshot, AdminCaller caller)
    {
        _snapshot = snapshot;
        _caller = caller;
    }

    /// <summary>States as <paramref name="caller"/> may read them: a winning rule it may not see is not named.</summary>
    public static RuleHealth Of(Snapshot snapshot, AdminCaller caller) => new(snapshot, caller);

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

        return IpRuleAnalysis.OverlapOf(_snapshot, usable, _caller) is { } overlap
            ? new RuleState(false, overlap.Kind == "tie" ? "Tie" : "Shadowed", overlap.Problem, overlap.OtherRuleId)
            : new RuleState(true, "Usable", null, null);
    }
}
