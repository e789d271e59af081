using System.Text;
using FsDirectory.Acl;
using FsDirectory.Data;
using FsDirectory.Profiles;

namespace FsDirectory.EventSocket;

/// <summary>
/// What the switches need after the data moved from one snapshot to another. Directory answers are
/// not <c>cacheable</c>, so device and account edits need no <c>xml_flush_cache</c>: FreeSWITCH
/// fetches users on every registration and call.
/// </summary>
public sealed record PushPlan(bool ReloadAcl, IReadOnlyList<string> RescanProfiles)
{
    public bool IsEmpty => !ReloadAcl && RescanProfiles.Count == 0;

    /// <summary>Compares what FreeSWITCH would fetch, not which rows changed: an edit that leaves the aggregated ACL alone needs no reload.</summary>
    public static PushPlan Between(Snapshot previous, Snapshot next)
    {
        var acl = !AclFingerprint(previous).AsSpan().SequenceEqual(AclFingerprint(next));
        var rescans = next.Profiles
            .Where(p => previous.FindProfile(p.Name) is { } old && !SameServedSettings(old, p))
            .Select(static p => p.Name)
            .ToList();
        return new PushPlan(acl, rescans);
    }

    /// <summary>The aggregated per-profile networks as acl.conf lists them, computed once per snapshot.</summary>
    private static byte[] AclFingerprint(Snapshot snapshot) =>
        snapshot.Answer("eventsocket/acl-networks", static s =>
        {
            var text = new StringBuilder();
            foreach (var (name, networks) in AclConfAnswers.ProfileNetworks(s).OrderBy(static p => p.Key, StringComparer.Ordinal))
            {
                text.Append(name).Append('=').AppendJoin(',', networks).Append('\n');
            }

            return Encoding.UTF8.GetBytes(text.ToString());
        });

    private static bool SameServedSettings(SipProfile a, SipProfile b) =>
        a.SipIp == b.SipIp
        && a.SipPort == b.SipPort
        && a.Params.SequenceEqual(b.Params)
        && a.Gateways.Count == b.Gateways.Count
        && a.Gateways.Zip(b.Gateways).All(static g => g.First.Name == g.Second.Name && g.First.Params.SequenceEqual(g.Second.Params));
}
