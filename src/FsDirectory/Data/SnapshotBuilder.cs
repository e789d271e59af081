using System.Collections.Frozen;
using System.Globalization;
using FsDirectory.Directory;
using FsDirectory.FreeSwitch;
using FsDirectory.IpAuth;
using FsDirectory.Profiles;
using FsDirectory.Proxies;
using Microsoft.Extensions.Options;

namespace FsDirectory.Data;

/// <summary>
/// Turns rows into a snapshot. Every check that can fail is per row: a bad row is skipped and listed
/// as a problem, and the good rows are still served.
/// </summary>
public sealed class SnapshotBuilder(IOptionsMonitor<FreeSwitchOptions> options, TimeProvider time)
{
    private const string IpRulesTable = "ip_map";
    private const string DevicesTable = "sip_devices";
    private const string ProxiesTable = TrustedProxies.Table;
    private const string ProfilesTable = "sip_profiles";

    // sofia trusts X-AUTH-IP from apply-proxy-acl; the dialplan must trust exactly the same sources,
    // so the list comes from fsdir_trusted_proxies only. The x-token variant authorises a call by the
    // mere presence of a header, which no caller-controlled header may ever do here.
    private static readonly HashSet<string> ProxyParams = new(StringComparer.OrdinalIgnoreCase) { "apply-proxy-acl", "apply-proxy-acl-x-token" };
    private static readonly HashSet<string> ReservedVariables = new(StringComparer.OrdinalIgnoreCase) { "accountcode", "user_context" };
    private static readonly HashSet<string> ComputedParams = new(StringComparer.OrdinalIgnoreCase) { "password", "a1-hash" };

    /// <param name="previous">
    /// The snapshot being replaced: its rules or devices are kept as they are when <paramref name="data"/>
    /// leaves them out because their tables did not change (see <see cref="DirectoryStore.LoadAsync{T}"/>).
    /// </param>
    public Snapshot Build(SnapshotData data, long version, Snapshot? previous = null)
    {
        var problems = new List<DataProblem>();
        var accounts = new Dictionary<int, AccountRow>(data.Accounts.Count);
        foreach (var account in data.Accounts)
        {
            accounts[account.Id] = account;
        }

        var profiles = BuildProfiles(data, problems);
        var profileRows = data.Profiles.GroupBy(p => p.Id).ToDictionary(g => g.Key, g => g.First());
        var proxies = BuildProxies(data.TrustedProxies, profiles, profileRows, problems);
        for (var i = 0; i < profiles.Count; i++)
        {
            if (proxies.ListFor(profiles[i].Name) is { } list)
            {
                profiles[i] = profiles[i] with { ProxyAcl = list };
            }
        }

        var defaultProfile = ResolveDefaultProfile(data.DefaultSipProfileSetting, profiles, out var defaultProblem);
        if (defaultProblem is not null)
        {
            problems.Add(new DataProblem("system", 0, defaultProblem));
        }

        var strings = new StringPool();
        IReadOnlyList<IpRule> rules;
        IpRuleIndex index;
        if (data.IpRules is { } ruleRows)
        {
            rules = BuildRules(ruleRows, previous?.UsableRules, accounts, profiles, profileRows, defaultProfile, defaultProblem, problems, strings);
            index = new IpRuleIndex(rules);
        }
        else
        {
            var unchanged = previous ?? throw new InvalidOperationException("ip_map rows are needed for a first snapshot");
            rules = unchanged.UsableRules;
            index = unchanged.Rules;
            problems.AddRange(unchanged.Problems.Where(p => p.Table == IpRulesTable));
        }

        FrozenDictionary<string, Device> devices;
        if (data.Devices is { } deviceRows)
        {
            devices = BuildDevices(deviceRows, previous?.Devices, accounts, problems, strings);
        }
        else
        {
            var unchanged = previous ?? throw new InvalidOperationException("sip_devices rows are needed for a first snapshot");
            devices = unchanged.Devices;
            problems.AddRange(unchanged.Problems.Where(p => p.Table == DevicesTable));
        }

        var snapshot = new Snapshot
        {
            Version = version,
            ChangeToken = data.ChangeToken,
            LoadedAt = time.GetUtcNow(),
            Devices = devices,
            Rules = index,
            UsableRules = rules,
            Profiles = profiles,
            DefaultProfile = defaultProfile?.Name,
            Problems = problems,
            Proxies = proxies,
        };

        // Only devices changed: acl.conf and sofia.conf are the same documents, so the switches'
        // next fetches need not wait for (and the heap need not hold) a rebuild of them.
        if (previous is not null && data.IpRules is null && data.ChangedTables is { } changed && changed.All(t => t == DevicesTable))
        {
            snapshot.InheritAnswers(previous);
        }

        return snapshot;
    }

    private static List<SipProfile> BuildProfiles(SnapshotData data, List<DataProblem> problems)
    {
        var gateways = new Dictionary<int, List<Gateway>>();
        foreach (var row in data.Gateways.Where(g => g.Status == 0).OrderBy(g => g.Id))
        {
            if (string.IsNullOrWhiteSpace(row.Name))
            {
                problems.Add(new DataProblem("gateways", row.Id, "name is empty"));
                continue;
            }

            if (!JsonFields.TryParse(row.GatewayData, out var fields, out var error))
            {
                problems.Add(new DataProblem("gateways", row.Id, $"gateway_data {error}"));
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
        foreach (var row in data.Profiles.Where(p => p.Status == 0).OrderBy(p => p.Id))
        {
            var name = row.Name?.Trim() ?? string.Empty;
            if (!DialString.IsValidToken(name))
            {
                problems.Add(new DataProblem(ProfilesTable, row.Id, $"name '{name}' is not a valid profile name (letters, digits, '.', '_', '-')"));
                continue;
            }

            if (TrustedProxies.IsReservedName(name))
            {
                problems.Add(new DataProblem(ProfilesTable, row.Id, $"name '{name}' is reserved for the acl.conf lists of trusted proxies"));
                continue;
            }

            if (!names.Add(name))
            {
                problems.Add(new DataProblem(ProfilesTable, row.Id, $"another active profile is already named '{name}'"));
                continue;
            }

            if (!JsonFields.TryParse(row.ProfileData, out var fields, out var error))
            {
                problems.Add(new DataProblem(ProfilesTable, row.Id, $"profile_data {error}"));
                continue;
            }

            if (fields.Any(static f => ProxyParams.Contains(f.Key)))
            {
                // The profile is still served, without them.
                problems.Add(new DataProblem(ProfilesTable, row.Id,
                    "profile_data sets apply-proxy-acl or apply-proxy-acl-x-token, which are left out: trusted proxies are configured in fsdir_trusted_proxies"));
                fields = [.. fields.Where(static f => !ProxyParams.Contains(f.Key))];
            }

            profiles.Add(new SipProfile
            {
                Id = row.Id,
                Name = name,
                SipIp = row.SipIp?.Trim() ?? string.Empty,
                SipPort = row.SipPort?.Trim() ?? string.Empty,
                Params = fields,
                Gateways = gateways.TryGetValue(row.Id, out var list) ? list : [],
            });
        }

        return profiles;
    }

    private static TrustedProxies BuildProxies(
        IReadOnlyList<TrustedProxyRow> rows, List<SipProfile> profiles, Dictionary<int, SipProfileRow> profileRows, List<DataProblem> problems)
    {
        var proxies = new List<TrustedProxy>(rows.Count);
        var activeProfiles = profiles.ToDictionary(static p => p.Id);
        foreach (var row in rows.Where(static r => r.Status == 0).OrderBy(static r => r.Id))
        {
            void Fail(string problem) => problems.Add(new DataProblem(ProxiesTable, row.Id, problem));

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
                if (OwnProfile(row.SipProfileId, activeProfiles, profileRows, out var problem) is not { } own)
                {
                    Fail(problem);
                    continue;
                }

                profile = own.Name;
            }

            proxies.Add(new TrustedProxy { Id = row.Id, Name = row.Name ?? string.Empty, Network = network.Value, Profile = profile });
        }

        return new TrustedProxies(proxies, profiles.Select(static p => p.Name));
    }

    /// <summary>The active, valid profile a row is bound to by id; or null, and why.</summary>
    private static SipProfile? OwnProfile(int id, Dictionary<int, SipProfile> activeProfiles, Dictionary<int, SipProfileRow> profileRows, out string problem)
    {
        problem = string.Empty;
        if (activeProfiles.TryGetValue(id, out var profile))
        {
            return profile;
        }

        problem = profileRows.ContainsKey(id) ? $"sip profile {id} is inactive or invalid" : $"sip profile {id} does not exist";
        return null;
    }

    private static SipProfile? ResolveDefaultProfile(string? setting, List<SipProfile> profiles, out string? problem)
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

    private List<IpRule> BuildRules(
        IEnumerable<IpMapRow> rows,
        IReadOnlyList<IpRule>? previousRules,
        Dictionary<int, AccountRow> accounts,
        List<SipProfile> profiles,
        Dictionary<int, SipProfileRow> profileRows,
        SipProfile? defaultProfile,
        string? defaultProblem,
        List<DataProblem> problems,
        StringPool strings)
    {
        var routingContext = options.CurrentValue.DefaultRoutingContext;
        var activeProfiles = profiles.ToDictionary(p => p.Id);
        var rules = rows.TryGetNonEnumeratedCount(out var count) ? new List<IpRule>(count) : [];
        var unchanged = new RulesById(previousRules);

        foreach (var row in rows)
        {
            if (row.Status != 0)
            {
                continue;
            }

            void Fail(string problem) => problems.Add(new DataProblem(IpRulesTable, row.Id, problem));

            if (!IpNetwork.TryParse(row.Ip, out var network, out var ipError))
            {
                Fail($"ip '{row.Ip}' cannot be used: {ipError}");
                continue;
            }

            if (!accounts.TryGetValue(row.AccountId, out var account))
            {
                Fail($"account {row.AccountId} does not exist");
                continue;
            }

            if (!account.IsActive)
            {
                Fail(account.Deleted != 0 ? $"account {row.AccountId} is deleted" : $"account {row.AccountId} is inactive");
                continue;
            }

            var accountCode = account.Number?.Trim() ?? string.Empty;
            if (!DialString.IsValidToken(accountCode))
            {
                Fail($"account {row.AccountId} has number '{account.Number}', which cannot be used as an accountcode");
                continue;
            }

            var prefix = row.Prefix ?? string.Empty;
            if (!DialString.IsValidPrefix(prefix))
            {
                Fail($"prefix '{prefix}' has characters outside 0-9 A-Z a-z * # + - . _ %");
                continue;
            }

            var context = string.IsNullOrWhiteSpace(row.Context) ? routingContext : row.Context.Trim();
            if (!DialString.IsValidToken(context))
            {
                Fail($"context '{row.Context}' is not a valid dialplan context");
                continue;
            }

            string? profile;
            if (row.SipProfileId != 0)
            {
                if (OwnProfile(row.SipProfileId, activeProfiles, profileRows, out var profileProblem) is not { } own)
                {
                    Fail(profileProblem);
                    continue;
                }

                profile = own.Name;
            }
            else if (defaultProblem is not null)
            {
                // Fail closed: a broken global default must never turn into "every profile".
                Fail("uses the global default SIP profile, which is not usable");
                continue;
            }
            else
            {
                profile = defaultProfile?.Name;
            }

            var rule = new IpRule
            {
                Id = row.Id,
                Name = row.Name ?? string.Empty,
                Network = network.Value,
                AccountId = account.Id,
                AccountCode = accountCode,
                ResellerId = row.ResellerId != 0 ? row.ResellerId : account.ResellerId ?? 0,
                PricelistId = row.PricelistId != 0 ? row.PricelistId : account.PricelistId,
                Prefix = prefix,
                Context = context,
                Profile = profile,
            };

            // An unchanged rule is the previous snapshot's object: after an edit at a million rules,
            // the new snapshot then shares almost all of its rules with the old one instead of
            // doubling them, and the row's copy dies young.
            rules.Add(unchanged.Find(row.Id) is { } same && same.Equals(rule)
                ? same
                : rule with { Name = strings.Share(rule.Name), Prefix = strings.Share(rule.Prefix), Context = strings.Share(rule.Context) });
        }

        return rules;
    }

    private static FrozenDictionary<string, Device> BuildDevices(
        IReadOnlyList<SipDeviceRow> rows,
        FrozenDictionary<string, Device>? previousDevices,
        Dictionary<int, AccountRow> accounts,
        List<DataProblem> problems,
        StringPool strings)
    {
        var devices = new Dictionary<string, Device>(rows.Count, StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (row.Status != 0)
            {
                continue;
            }

            var username = row.Username ?? string.Empty;
            if (username.Length == 0)
            {
                problems.Add(new DataProblem(DevicesTable, row.Id, "username is empty"));
                continue;
            }

            if (!accounts.TryGetValue(row.AccountId, out var account))
            {
                problems.Add(new DataProblem(DevicesTable, row.Id, $"account {row.AccountId} does not exist"));
                continue;
            }

            if (!account.IsActive)
            {
                continue;
            }

            if (!JsonFields.TryParse(row.DirParams, out var dirParams, out var error))
            {
                problems.Add(new DataProblem(DevicesTable, row.Id, $"dir_params {error}"));
                continue;
            }

            if (!JsonFields.TryParse(row.DirVars, out var dirVars, out error))
            {
                problems.Add(new DataProblem(DevicesTable, row.Id, $"dir_vars {error}"));
                continue;
            }

            var password = dirParams.Get("password");
            var a1Hash = dirParams.Get("a1-hash");
            if (string.IsNullOrEmpty(password) && string.IsNullOrEmpty(a1Hash))
            {
                // A directory user without a password skips authentication in FreeSWITCH.
                problems.Add(new DataProblem(DevicesTable, row.Id, "dir_params has no password"));
                continue;
            }

            var device = new Device
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
                ResellerId = row.ResellerId != 0 ? row.ResellerId : account.ResellerId ?? 0,
                CredentialsDisabled = account.SipCredentialsDisabled != 0,
            };
            // As with rules: an unchanged device stays the previous snapshot's object.
            if (previousDevices is not null && previousDevices.TryGetValue(username, out var same) && same.SameAs(device))
            {
                device = same;
            }

            if (!devices.TryAdd(username, device))
            {
                problems.Add(new DataProblem(DevicesTable, row.Id, $"username '{username}' is used by another device"));
            }
        }

        return devices.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>
    /// Finds a previous rule by id while the rows arrive in id order (ip_map is read ORDER BY id, and
    /// the rules keep the row order): a merge walk, so no million-entry dictionary is built for it.
    /// </summary>
    private struct RulesById(IReadOnlyList<IpRule>? rules)
    {
        private int _next;

        public IpRule? Find(int id)
        {
            if (rules is null)
            {
                return null;
            }

            while (_next < rules.Count && rules[_next].Id < id)
            {
                _next++;
            }

            return _next < rules.Count && rules[_next].Id == id ? rules[_next] : null;
        }
    }
}
