using System.Collections.Concurrent;
using System.Collections.Frozen;
using FsDirectory.Directory;
using FsDirectory.IpAuth;
using FsDirectory.Profiles;
using FsDirectory.Proxies;

namespace FsDirectory.Data;

/// <summary>
/// Everything FreeSWITCH is answered from, immutable once built and replaced as a whole, so a
/// request sees one consistent version of the data and never waits on the database.
/// </summary>
public sealed class Snapshot
{
    private readonly ConcurrentDictionary<string, Lazy<byte[]>> _answers = new(StringComparer.Ordinal);

    public required long Version { get; init; }
    public required string ChangeToken { get; init; }
    public required DateTimeOffset LoadedAt { get; init; }
    public required FrozenDictionary<string, Device> Devices { get; init; }
    public required IpRuleIndex Rules { get; init; }
    public required IReadOnlyList<IpRule> UsableRules { get; init; }

    /// <summary>Active profiles with valid settings, by id.</summary>
    public required IReadOnlyList<SipProfile> Profiles { get; init; }

    /// <summary>The global default profile for rules without their own (null: none configured).</summary>
    public required string? DefaultProfile { get; init; }
    public required IReadOnlyList<DataProblem> Problems { get; init; }

    /// <summary>The SIP proxies whose X-AUTH-IP is trusted, and on which profiles.</summary>
    public TrustedProxies Proxies { get; init; } = TrustedProxies.Empty;

    public SipProfile? FindProfile(string? name) =>
        Profiles.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.Ordinal));

    /// <summary>Takes over the answers <paramref name="previous"/> already built, for a snapshot whose rules and profiles are the same.</summary>
    internal void InheritAnswers(Snapshot previous)
    {
        // Only built ones: a pending Lazy still refers to the previous snapshot, which must be let go.
        foreach (var (key, answer) in previous._answers.Where(a => a.Value.IsValueCreated))
        {
            _answers.TryAdd(key, answer);
        }
    }

    /// <summary>Whole-document answers (acl.conf, sofia.conf) are built once per snapshot and then served from memory.</summary>
    public byte[] Answer(string key, Func<Snapshot, byte[]> build) =>
        _answers.GetOrAdd(key, static (_, state) => new Lazy<byte[]>(() => state.build(state.snapshot)), (build, snapshot: this)).Value;
}
