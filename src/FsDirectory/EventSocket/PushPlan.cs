using System.Security.Cryptography;
using FsDirectory.Acl;
using FsDirectory.Profiles;
using FsDirectory.Snapshots;

namespace FsDirectory.EventSocket;

/// <summary>
/// What the switches need after the data moved from one snapshot to another. Directory answers are
/// not <c>cacheable</c>, so device and account edits need no <c>xml_flush_cache</c>: FreeSWITCH
/// fetches users on every registration and call.
/// </summary>
public sealed record PushPlan(bool ReloadAcl, IReadOnlyList<string> RescanProfiles)
{
    public bool IsEmpty => !ReloadAcl && RescanProfiles.Count == 0;

    /// <summary>Compares what FreeSWITCH would fetch, not which rows changed: an edit that leaves acl.conf alone needs no reload.</summary>
    public static PushPlan Between(PushBasis previous, PushBasis next)
    {
        var acl = !previous.AclDigest.AsSpan().SequenceEqual(next.AclDigest);
        var rescans = next.Profiles
            .Where(p => previous.Profiles.FirstOrDefault(old => old.Name == p.Name) is { } old && !old.ServesSameAs(p))
            .Select(static p => p.Name)
            .ToList();
        return new PushPlan(acl, rescans);
    }
}

/// <summary>
/// What the next plan compares against, kept instead of the snapshot itself: holding on to the last
/// snapshot would keep a second copy of every rule and device alive (hundreds of megabytes at a
/// million rules) until the next change.
/// </summary>
public sealed record PushBasis(byte[] AclDigest, IReadOnlyList<SipProfile> Profiles, string ServedDigest)
{
    public static PushBasis Of(Snapshot snapshot, ServedConfiguration served) =>
        new(served.AclDigest(snapshot), snapshot.Profiles, served.Digest(snapshot));
}

/// <summary>
/// Digests of what a switch fetches after a push (acl.conf, sofia.conf), computed once per
/// snapshot from the documents built for it: the pusher compares its own with the other
/// instances' before telling the switches to fetch.
/// </summary>
public sealed class ServedConfiguration(AclConfAnswers acl)
{
    // Keyed under acl.conf: a snapshot patched from another keeps it exactly when it keeps acl.conf.
    public byte[] AclDigest(Snapshot snapshot) =>
        snapshot.Answer("acl.conf#sha256", s => acl.Answer(s).Sha256());

    /// <summary>Lower-case hex SHA-256 over the acl.conf digest and the whole sofia.conf.</summary>
    public string Digest(Snapshot snapshot) =>
        snapshot.Answer("served#sha256", s =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(AclDigest(s));
            foreach (var part in SofiaConfAnswers.AllProfiles(s))
            {
                hash.AppendData(part.Span);
            }

            return Convert.ToHexStringLower(hash.GetHashAndReset());
        });
}
