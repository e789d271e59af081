using System.Collections;
using System.Collections.Concurrent;
using FsDirectory.Acl;
using FsDirectory.ChangeFeed;
using FsDirectory.Collections;
using FsDirectory.Directory;
using FsDirectory.IpAuth;
using FsDirectory.Profiles;
using FsDirectory.Proxies;

using FsDirectory.Database;

namespace FsDirectory.Snapshots;

/// <summary>
/// Everything FreeSWITCH is answered from, immutable once built and replaced as a whole, so a
/// request sees one consistent version of the data and never waits on the database. A snapshot
/// made from row changes shares every unchanged rule, device, index shard and string with the
/// snapshot it replaces (see <see cref="SnapshotPatcher"/>).
/// </summary>
public sealed class Snapshot
{
    private readonly ConcurrentDictionary<string, Lazy<object>> _answers = new(StringComparer.Ordinal);

    public required long Version { get; init; }
    public required string ChangeToken { get; init; }
    public required DateTimeOffset LoadedAt { get; init; }

    /// <summary>Usable devices by username.</summary>
    public required ShardedDictionary<string, Device> Devices { get; init; }
    public required IpRuleIndex Rules { get; init; }

    /// <summary>Usable rules in id order.</summary>
    public required IdCollection<IpRule> UsableRules { get; init; }

    /// <summary>The usable rules' networks as acl.conf is made from them (by address bucket, shared between snapshots).</summary>
    public required AclInputs AclInputs { get; init; }

    /// <summary>Active profiles with valid settings, by id.</summary>
    public IReadOnlyList<SipProfile> Profiles => ProfileState.Profiles;

    /// <summary>The global default profile for rules without their own (null: none configured).</summary>
    public string? DefaultProfile => ProfileState.Default?.Name;

    /// <summary>Rows that cannot be used: profiles, gateways and the default setting, then ip_map, then sip_devices, each in id order.</summary>
    public IReadOnlyCollection<DataProblem> Problems => new ProblemList(this);

    // What row changes are applied against: the rows the usable rules and devices were checked with.

    public required IdCollection<AccountRow> Accounts { get; init; }
    public required ProfileState ProfileState { get; init; }

    /// <summary>The routing context rules with an empty <c>context</c> were given (FreeSwitch:DefaultRoutingContext when they were built).</summary>
    public required string RoutingContext { get; init; }
    public required IdCollection<string> RuleProblems { get; init; }

    /// <summary>The same devices as <see cref="Devices"/>, by row id.</summary>
    public required IdCollection<Device> DevicesById { get; init; }
    public required IdCollection<string> DeviceProblems { get; init; }

    /// <summary>How far the change feed has been applied; null when changes are detected by checksum.</summary>
    public FeedPosition? FeedPosition { get; init; }

    /// <summary>The SIP proxies whose X-AUTH-IP is trusted, and on which profiles.</summary>
    public TrustedProxies Proxies => ProfileState.Proxies;

    public SipProfile? FindProfile(string? name) =>
        Profiles.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.Ordinal));

    /// <summary>Takes over the answers <paramref name="previous"/> already built whose key <paramref name="keep"/> accepts (their inputs did not change).</summary>
    internal void InheritAnswers(Snapshot previous, Func<string, bool> keep, bool pendingToo = false)
    {
        // Only built ones, unless asked: a pending Lazy still refers to the previous snapshot, which must be let go.
        foreach (var (key, answer) in previous._answers.Where(a => (pendingToo || a.Value.IsValueCreated) && keep(a.Key)))
        {
            _answers.TryAdd(key, answer);
        }
    }

    /// <summary>The same data and version, recording a feed position that moved without changing anything (gaps closed or given up).</summary>
    internal Snapshot WithFeedPosition(FeedPosition position) => Copy(position, keepAnswers: true);

    /// <summary>The same data and version with another feed position, with or without the answers built so far.</summary>
    internal Snapshot Copy(FeedPosition? position, bool keepAnswers)
    {
        var copy = new Snapshot
        {
            Version = Version,
            ChangeToken = position?.ToString() ?? ChangeToken,
            LoadedAt = LoadedAt,
            Devices = Devices,
            Rules = Rules,
            UsableRules = UsableRules,
            AclInputs = AclInputs,
            Accounts = Accounts,
            ProfileState = ProfileState,
            RoutingContext = RoutingContext,
            RuleProblems = RuleProblems,
            DevicesById = DevicesById,
            DeviceProblems = DeviceProblems,
            FeedPosition = position,
        };
        if (keepAnswers)
        {
            // Same data: an answer still being built for this snapshot is the copy's answer too.
            copy.InheritAnswers(this, static _ => true, pendingToo: true);
        }

        return copy;
    }

    /// <summary>Whether the answer under <paramref name="key"/> is built already (a fetch would not wait for it).</summary>
    public bool HasAnswer(string key) => _answers.TryGetValue(key, out var answer) && answer.IsValueCreated;

    /// <summary>Whole-document answers (acl.conf, sofia.conf) are built once per snapshot and then served from memory.</summary>
    public T Answer<T>(string key, Func<Snapshot, T> build) where T : class =>
        (T)_answers.GetOrAdd(key, static (_, state) => new Lazy<object>(() => state.build(state.snapshot)), (build, snapshot: this)).Value;

    /// <summary>The problems, enumerated from the snapshot's tables on demand: counting them costs nothing.</summary>
    private sealed class ProblemList(Snapshot snapshot) : IReadOnlyCollection<DataProblem>
    {
        public int Count => snapshot.ProfileState.Problems.Count + snapshot.RuleProblems.Count + snapshot.DeviceProblems.Count;

        public IEnumerator<DataProblem> GetEnumerator()
        {
            foreach (var problem in snapshot.ProfileState.Problems)
            {
                yield return problem;
            }

            foreach (var (id, problem) in snapshot.RuleProblems.Entries)
            {
                yield return new DataProblem(DirectoryTables.IpMap, id, problem);
            }

            foreach (var (id, problem) in snapshot.DeviceProblems.Entries)
            {
                yield return new DataProblem(DirectoryTables.SipDevices, id, problem);
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
