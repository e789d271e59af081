using System.Globalization;
using FsDirectory.Collections;
using FsDirectory.Directory;
using FsDirectory.IpAuth;
using FsDirectory.Profiles;
using FsDirectory.Proxies;

using FsDirectory.Database;

namespace FsDirectory.Snapshots;

/// <summary>
/// The profiles a snapshot serves, the global default profile for IP rules, how a rule's
/// <c>sip_profile_id</c> resolves, and the trusted proxies. Built from the four small tables, which
/// are always read whole.
/// </summary>
public sealed class ProfileState
{
    public static readonly ProfileState Empty = Build([], [], null, []);

    // sofia trusts X-AUTH-IP from apply-proxy-acl; the dialplan must trust exactly the same sources,
    // so the list comes from fsdir_trusted_proxies only. The x-token variant authorises a call by the
    // mere presence of a header, which no caller-controlled header may ever do here.
    private static readonly HashSet<string> ProxyParams = new(StringComparer.OrdinalIgnoreCase) { "apply-proxy-acl", "apply-proxy-acl-x-token" };

    private readonly Dictionary<int, SipProfile> _active;
    private readonly HashSet<int> _existing;

    private ProfileState(
        List<SipProfile> profiles, HashSet<int> existing, SipProfile? defaultProfile, string? defaultProblem, TrustedProxies proxies, List<DataProblem> problems)
    {
        Profiles = profiles;
        Proxies = proxies;
        _active = profiles.ToDictionary(p => p.Id);
        _existing = existing;
        Default = defaultProfile;
        DefaultProblem = defaultProblem;
        Problems = problems;
    }

    /// <summary>Active profiles with valid settings, by id.</summary>
    public IReadOnlyList<SipProfile> Profiles { get; }

    public SipProfile? Default { get; }

    /// <summary>Why the configured default profile cannot be used (rules without their own profile then fail closed).</summary>
    public string? DefaultProblem { get; }

    /// <summary>The SIP proxies whose X-AUTH-IP is trusted, and on which profiles.</summary>
    public TrustedProxies Proxies { get; }

    /// <summary>Problems of gateways, profiles, trusted proxies and the default setting.</summary>
    public IReadOnlyList<DataProblem> Problems { get; }

    /// <summary>
    /// The profile a rule with this <c>sip_profile_id</c> applies on: a name, null for every profile,
    /// or a problem that makes the rule unusable.
    /// </summary>
    public (string? Profile, string? Problem) Resolve(int sipProfileId)
    {
        if (sipProfileId != 0)
        {
            return _active.TryGetValue(sipProfileId, out var own)
                ? (own.Name, null)
                : (null, ProfileProblem(sipProfileId, _existing));
        }

        // Fail closed: a broken global default must never turn into "every profile".
        return DefaultProblem is not null
            ? (null, "uses the global default SIP profile, which is not usable")
            : (Default?.Name, null);
    }

    /// <summary>The <c>sip_profile_id</c> values (0 = the global default) whose rules resolve differently in <paramref name="next"/>.</summary>
    public IReadOnlyList<int> ChangedResolutions(ProfileState next) =>
        _existing.Union(next._existing).Append(0).Distinct()
            .Where(id => Resolve(id) != next.Resolve(id))
            .Order()
            .ToList();

    /// <summary>Same served profiles (with gateways), same default and the same problems.</summary>
    public bool SameAs(ProfileState other) =>
        Profiles.Count == other.Profiles.Count
        && Profiles.Zip(other.Profiles).All(static p => SameProfile(p.First, p.Second))
        && _existing.SetEquals(other._existing)
        && Proxies.All.SequenceEqual(other.Proxies.All)
        && Default?.Id == other.Default?.Id
        && DefaultProblem == other.DefaultProblem
        && Problems.SequenceEqual(other.Problems);

    private static bool SameProfile(SipProfile a, SipProfile b) =>
        a.Id == b.Id && a.Name == b.Name && a.ServesSameAs(b)
        && a.Gateways.Select(static g => g.Id).SequenceEqual(b.Gateways.Select(static g => g.Id));

    public static ProfileState Build(
        IReadOnlyList<SipProfileRow> profileRows, IReadOnlyList<GatewayRow> gatewayRows, string? defaultSetting, IReadOnlyList<TrustedProxyRow> proxyRows)
    {
        var problems = new List<DataProblem>();
        var gateways = new Dictionary<int, List<Gateway>>();
        foreach (var row in gatewayRows.Where(g => g.Status == 0).OrderBy(g => g.Id))
        {
            if (string.IsNullOrWhiteSpace(row.Name))
            {
                problems.Add(new DataProblem(DirectoryTables.Gateways, row.Id, "name is empty"));
                continue;
            }

            if (!JsonFields.TryParse(row.GatewayData, out var fields, out var error))
            {
                problems.Add(new DataProblem(DirectoryTables.Gateways, row.Id, $"gateway_data {error}"));
                continue;
            }

            if (!gateways.TryGetValue(row.SipProfileId, out var list))
            {
                gateways[row.SipProfileId] = list = [];
            }

            list.Add(new Gateway { Id = row.Id, Name = row.Name.Trim(), Params = fields });
        }

        var profiles = new List<SipProfile>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in profileRows.Where(p => p.Status == 0).OrderBy(p => p.Id))
        {
            var name = row.Name?.Trim() ?? string.Empty;
            if (!DialString.IsValidToken(name))
            {
                problems.Add(new DataProblem(DirectoryTables.SipProfiles, row.Id, $"name '{name}' is not a valid profile name (letters, digits, '.', '_', '-')"));
                continue;
            }

            if (TrustedProxies.IsReservedName(name))
            {
                problems.Add(new DataProblem(DirectoryTables.SipProfiles, row.Id, $"name '{name}' is reserved for the acl.conf lists of trusted proxies"));
                continue;
            }

            if (!names.Add(name))
            {
                problems.Add(new DataProblem(DirectoryTables.SipProfiles, row.Id, $"another active profile is already named '{name}'"));
                continue;
            }

            if (!JsonFields.TryParse(row.ProfileData, out var fields, out var error))
            {
                problems.Add(new DataProblem(DirectoryTables.SipProfiles, row.Id, $"profile_data {error}"));
                continue;
            }

            if (fields.Any(static f => ProxyParams.Contains(f.Key)))
            {
                // The profile is still served, without them.
                problems.Add(new DataProblem(DirectoryTables.SipProfiles, row.Id,
                    "profile_data sets apply-proxy-acl or apply-proxy-acl-x-token, which are left out: trusted proxies are configured in fsdir_trusted_proxies"));
                fields = [.. fields.Where(static f => !ProxyParams.Contains(f.Key))];
            }

            if (!IpAuthModes.TryParse(row.IpAuthMode, out var mode))
            {
                // Served in the stricter mode: acl keeps auth-calls=true, so a typo never opens the profile.
                problems.Add(new DataProblem(DirectoryTables.SipProfiles, row.Id,
                    $"fsdir_ip_auth_mode '{row.IpAuthMode}' is neither '{IpAuthModes.AclText}' nor '{IpAuthModes.DialplanText}'; the profile is served in acl mode"));
            }

            profiles.Add(new SipProfile
            {
                Id = row.Id,
                Name = name,
                SipIp = row.SipIp?.Trim() ?? string.Empty,
                SipPort = row.SipPort?.Trim() ?? string.Empty,
                Params = fields,
                Gateways = gateways.TryGetValue(row.Id, out var list) ? list : [],
                Mode = mode,
            });
        }

        var existing = profileRows.Select(static p => p.Id).ToHashSet();
        var proxies = BuildProxies(proxyRows, profiles, existing, problems);
        for (var i = 0; i < profiles.Count; i++)
        {
            if (proxies.ListFor(profiles[i].Name) is { } list)
            {
                profiles[i] = profiles[i] with { ProxyAcl = list };
            }
        }

        var defaultProfile = ResolveDefault(defaultSetting, profiles, out var defaultProblem);
        if (defaultProblem is not null)
        {
            problems.Add(new DataProblem(DirectoryTables.System, 0, defaultProblem));
        }

        return new ProfileState(profiles, existing, defaultProfile, defaultProblem, proxies, problems);
    }

    private static TrustedProxies BuildProxies(IReadOnlyList<TrustedProxyRow> rows, List<SipProfile> profiles, HashSet<int> existing, List<DataProblem> problems)
    {
        var proxies = new List<TrustedProxy>(rows.Count);
        var active = profiles.ToDictionary(static p => p.Id);
        foreach (var row in rows.Where(static r => r.Status == 0).OrderBy(static r => r.Id))
        {
            void Fail(string problem) => problems.Add(new DataProblem(TrustedProxies.Table, row.Id, problem));

            if (!IpNetwork.TryParse(row.Ip, out var network, out var ipError))
            {
                Fail($"ip '{row.Ip}' cannot be used: {ipError}");
                continue;
            }

            if (TrustedProxy.RefuseNetwork(network.Value) is { } refused)
            {
                Fail($"ip {refused}");
                continue;
            }

            string? profile = null;
            if (row.SipProfileId != 0)
            {
                // Fail closed: a proxy meant for one profile never becomes trusted on all of them.
                if (!active.TryGetValue(row.SipProfileId, out var own))
                {
                    Fail(ProfileProblem(row.SipProfileId, existing));
                    continue;
                }

                profile = own.Name;
            }

            proxies.Add(new TrustedProxy { Id = row.Id, Name = row.Name ?? string.Empty, Network = network.Value, Profile = profile });
        }

        return new TrustedProxies(proxies, profiles.Select(static p => p.Name));
    }

    private static string ProfileProblem(int sipProfileId, HashSet<int> existing) =>
        existing.Contains(sipProfileId) ? $"sip profile {sipProfileId} is inactive or invalid" : $"sip profile {sipProfileId} does not exist";

    private static SipProfile? ResolveDefault(string? setting, List<SipProfile> profiles, out string? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(setting) || setting.Trim() == "0")
        {
            return null;
        }

        if (!int.TryParse(setting.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            problem = $"{DirectoryStore.DefaultProfileSettingName} = '{setting}' is not a sip_profiles id; IP rules without their own profile are not usable";
            return null;
        }

        var profile = profiles.FirstOrDefault(p => p.Id == id);
        if (profile is null)
        {
            problem = $"{DirectoryStore.DefaultProfileSettingName} names sip_profiles id {id}, which is missing, inactive or invalid; IP rules without their own profile are not usable";
        }

        return profile;
    }
}

/// <summary>
/// The checks one <c>ip_map</c> or <c>sip_devices</c> row goes through, the same whether a whole table
/// is built, a changed row is applied, or the snapshot is checked against the database: so an
/// incrementally maintained snapshot can only differ from a full rebuild in which rows were looked at.
/// </summary>
public sealed class RowChecks(IdCollection<AccountRow> accounts, ProfileState profiles, string routingContext)
{
    private static readonly HashSet<string> ReservedVariables = new(StringComparer.OrdinalIgnoreCase) { "accountcode", "user_context" };
    private static readonly HashSet<string> ComputedParams = new(StringComparer.OrdinalIgnoreCase) { "password", "a1-hash" };

    public IdCollection<AccountRow> Accounts => accounts;

    public ProfileState Profiles => profiles;

    public string RoutingContext => routingContext;

    /// <summary>The usable rule a row makes, or why it cannot be used; neither for an inactive row.</summary>
    public (IpRule? Rule, string? Problem) Rule(IpMapRow row)
    {
        if (row.Status != 0)
        {
            return (null, null);
        }

        if (!IpNetwork.TryParse(row.Ip, out var network, out var ipError))
        {
            return (null, $"ip '{row.Ip}' cannot be used: {ipError}");
        }

        if (accounts.Find(row.AccountId) is not { } account)
        {
            return (null, $"account {row.AccountId} does not exist");
        }

        if (!account.IsActive)
        {
            return (null, account.Deleted != 0 ? $"account {row.AccountId} is deleted" : $"account {row.AccountId} is inactive");
        }

        var accountCode = account.Number?.Trim() ?? string.Empty;
        if (!DialString.IsValidToken(accountCode))
        {
            return (null, $"account {row.AccountId} has number '{account.Number}', which cannot be used as an accountcode");
        }

        var prefix = row.Prefix ?? string.Empty;
        if (!DialString.IsValidPrefix(prefix))
        {
            return (null, $"prefix '{prefix}' has characters outside 0-9 A-Z a-z * # + - . _ %");
        }

        var context = string.IsNullOrWhiteSpace(row.Context) ? routingContext : row.Context.Trim();
        if (!DialString.IsValidToken(context))
        {
            return (null, $"context '{row.Context}' is not a valid dialplan context");
        }

        var (profile, profileProblem) = profiles.Resolve(row.SipProfileId);
        if (profileProblem is not null)
        {
            return (null, profileProblem);
        }

        return (new IpRule
        {
            Id = row.Id,
            Name = row.Name ?? string.Empty,
            Network = network.Value,
            Prefix = prefix,
            Terms = new RuleTerms
            {
                AccountId = account.Id,
                AccountCode = accountCode,
                // The account's reseller, never ip_map.reseller_id: ASTPP copies the account's into it when a
                // rule is made, but seeded or edited rows drift, and one rule must not be billed to one
                // reseller while it is listed under another. Key scopes use the same value.
                ResellerId = account.ResellerId ?? 0,
                PricelistId = row.PricelistId != 0 ? row.PricelistId : account.PricelistId,
                Context = context,
                Profile = profile,
            },
        }, null);
    }

    /// <summary>
    /// The device a row makes, or why it cannot be used; neither for an inactive device or one whose
    /// account is inactive. Whether its username is free is decided among the rows sharing it (the
    /// lowest id wins), see <see cref="DuplicateUsername"/>.
    /// </summary>
    public (Device? Device, string? Problem) Device(SipDeviceRow row, StringPool strings)
    {
        if (row.Status != 0)
        {
            return (null, null);
        }

        var username = row.Username ?? string.Empty;
        if (username.Length == 0)
        {
            return (null, "username is empty");
        }

        if (accounts.Find(row.AccountId) is not { } account)
        {
            return (null, $"account {row.AccountId} does not exist");
        }

        if (!account.IsActive)
        {
            return (null, null);
        }

        if (!JsonFields.TryParse(row.DirParams, out var dirParams, out var error))
        {
            return (null, $"dir_params {error}");
        }

        if (!JsonFields.TryParse(row.DirVars, out var dirVars, out error))
        {
            return (null, $"dir_vars {error}");
        }

        var password = dirParams.Get("password");
        var a1Hash = dirParams.Get("a1-hash");
        if (string.IsNullOrEmpty(password) && string.IsNullOrEmpty(a1Hash))
        {
            // A directory user without a password skips authentication in FreeSWITCH.
            return (null, "dir_params has no password");
        }

        return (new Device
        {
            Id = row.Id,
            Username = username,
            Password = string.IsNullOrEmpty(password) ? null : password,
            StoredA1Hash = string.IsNullOrEmpty(password) ? a1Hash : null,
            Params = strings.ShareKeys(dirParams.Where(p => !ComputedParams.Contains(p.Key))),
            Variables = strings.ShareKeys(dirVars.Where(v => !ReservedVariables.Contains(v.Key) && !v.Key.StartsWith("fsdir_", StringComparison.OrdinalIgnoreCase))),
            UserContext = dirVars.Get("user_context") is { Length: > 0 } context ? strings.Share(context) : null,
            AccountId = account.Id,
            AccountCode = account.Number ?? string.Empty,
            // As for IP rules: the account's reseller, not the row's copy of it.
            ResellerId = account.ResellerId ?? 0,
            CredentialsDisabled = account.SipCredentialsDisabled != 0,
        }, null);
    }

    public static string DuplicateUsername(string username) => $"username '{username}' is used by another device";

    /// <summary>
    /// A new rule, or the previous object when nothing differs (so snapshots share it), with its
    /// strings and terms shared through <paramref name="strings"/> otherwise.
    /// </summary>
    public static IpRule Reuse(IpRule rule, IpRule? previous, StringPool strings) =>
        previous is not null && previous.Equals(rule)
            ? previous
            : rule.Sharing(strings.ShareTexts(rule), strings.Share(rule.Terms));

    public static Device Reuse(Device device, Device? previous) =>
        previous is not null && previous.SameAs(device) ? previous : device;
}
