using System.Text;
using FsDirectory.Acl;
using FsDirectory.ChangeFeed;
using FsDirectory.IpAuth;
using Microsoft.Extensions.DependencyInjection;

namespace FsDirectory.Tests.Infrastructure;

/// <summary>
/// The proof that a snapshot kept up to date from row changes never drifts: the server's live
/// snapshot against a full rebuild of the same tables, made by the server's own full-load path.
/// </summary>
public static class SnapshotEquivalence
{
    /// <summary>Applies what the feed holds, then asserts the live snapshot answers exactly like a full rebuild.</summary>
    public static async Task AssertLiveEqualsFullRebuildAsync(FsDirectoryServer server, string when)
    {
        await server.ReloadAsync();
        var live = server.Snapshot!;
        var store = server.Services.GetRequiredService<DirectoryStore>();
        var builder = server.Services.GetRequiredService<SnapshotBuilder>();
        var full = await store.LoadAsync(ChangeDetection.Triggers, 60, null, null, new FeedClock(TimeSpan.FromSeconds(30), 0), null,
            data => builder.Build(data, -1), CancellationToken.None);
        var differences = Differences(live, full, server.Services.GetRequiredService<AclConfAnswers>());
        Assert.True(differences.Count == 0, $"{when}: the live snapshot {live.Version} ({live.FeedPosition}) differs from a full rebuild:\n{string.Join('\n', differences.Take(30))}");
    }

    public static List<string> Differences(Snapshot live, Snapshot full, AclConfAnswers acl)
    {
        var differences = new List<string>();
        void Check(bool same, string what)
        {
            if (!same)
            {
                differences.Add(what);
            }
        }

        // Rules: the same usable rules, field by field.
        var liveRules = live.UsableRules.ToDictionary(r => r.Id);
        var fullRules = full.UsableRules.ToDictionary(r => r.Id);
        foreach (var id in liveRules.Keys.Union(fullRules.Keys).Order())
        {
            Check(Equals(liveRules.GetValueOrDefault(id), fullRules.GetValueOrDefault(id)),
                $"rule {id}: live {liveRules.GetValueOrDefault(id)} / full {fullRules.GetValueOrDefault(id)}");
        }

        Check(live.Rules.Count == full.Rules.Count, $"index count: live {live.Rules.Count} / full {full.Rules.Count}");
        Check(Slots(live).SequenceEqual(Slots(full)), $"index slots differ: live [{string.Join(", ", Slots(live))}] / full [{string.Join(", ", Slots(full))}]");

        // Answers: every rule's network asked with its own prefix and with none, on every profile and on none.
        var profiles = full.Profiles.Select(p => (string?)p.Name).Append(null).Append("no-such-profile").ToList();
        foreach (var rule in fullRules.Values.Concat(liveRules.Values))
        {
            foreach (var number in new[] { rule.Prefix + "12065550100", "12065550100" })
            {
                foreach (var profile in profiles)
                {
                    var source = new IpAddressKey(rule.Network.Last, rule.Network.IsV4).ToString();
                    var a = DialplanAnswers.Decide(live, source, number, profile);
                    var b = DialplanAnswers.Decide(full, source, number, profile);
                    Check(a.Rule?.Id == b.Rule?.Id && a.Number == b.Number && a.Context == b.Context && a.Reason == b.Reason,
                        $"call from {source} to {number} on {profile ?? "(none)"}: live rule {a.Rule?.Id} {a.Reason} / full rule {b.Rule?.Id} {b.Reason}");
                }
            }
        }

        // Devices: the same usable devices by username and by id.
        foreach (var username in live.Devices.Keys.Union(full.Devices.Keys).Order(StringComparer.Ordinal))
        {
            var a = live.Devices.TryGetValue(username, out var x) ? x : null;
            var b = full.Devices.TryGetValue(username, out var y) ? y : null;
            Check(a is null ? b is null : b is not null && a.SameAs(b), $"device '{username}': live {a?.Id} / full {b?.Id}");
        }

        Check(live.DevicesById.Select(d => d.Id).SequenceEqual(full.DevicesById.Select(d => d.Id)), "devices by id differ");
        Check(live.Devices.Count == full.Devices.Count, $"device count: live {live.Devices.Count} / full {full.Devices.Count}");

        // Problems, accounts, profiles.
        var liveProblems = live.Problems.Select(p => $"{p.Table} {p.RowId}: {p.Problem}").ToList();
        var fullProblems = full.Problems.Select(p => $"{p.Table} {p.RowId}: {p.Problem}").ToList();
        foreach (var problem in liveProblems.Except(fullProblems))
        {
            differences.Add($"only live lists problem {problem}");
        }

        foreach (var problem in fullProblems.Except(liveProblems))
        {
            differences.Add($"only a full rebuild lists problem {problem}");
        }

        Check(live.Accounts.SequenceEqual(full.Accounts), "accounts differ");
        Check(live.ProfileState.SameAs(full.ProfileState), "profiles differ");
        Check(live.DefaultProfile == full.DefaultProfile, $"default profile: live {live.DefaultProfile} / full {full.DefaultProfile}");

        // Whole documents: acl.conf byte for byte.
        var liveAcl = Encoding.UTF8.GetString(acl.Answer(live).Body.Span);
        var fullAcl = Encoding.UTF8.GetString(acl.Answer(full).Body.Span);
        Check(liveAcl == fullAcl, $"acl.conf differs:\nlive: {liveAcl}\nfull: {fullAcl}");
        return differences;
    }

    private static IEnumerable<string> Slots(Snapshot snapshot) =>
        snapshot.Rules.Slots().Select(s => $"{s.Slot}:{s.Rule.Id}").Order(StringComparer.Ordinal);
}
