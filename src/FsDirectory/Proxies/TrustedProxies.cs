using System.Collections.Frozen;
using FsDirectory.IpAuth;

namespace FsDirectory.Proxies;

/// <summary>
/// The trusted proxies of one snapshot: which source addresses may vouch for a caller with
/// <c>X-AUTH-IP</c> on which profile, and the acl.conf lists that sofia's <c>apply-proxy-acl</c> names.
/// A profile whose proxies are all global uses the shared list <see cref="SharedList"/>; a profile with
/// proxies of its own gets <c>fsdir_proxies_PROFILE</c> (its own plus the global ones). A profile
/// without any gets no list and no <c>apply-proxy-acl</c>, so sofia never looks at the header there.
/// </summary>
public sealed class TrustedProxies
{
    public const string Table = Database.DirectoryTables.TrustedProxies;
    public const string SharedList = "fsdir_proxies";
    public const string ProfileListPrefix = SharedList + "_";

    public static readonly TrustedProxies Empty = new([], []);

    private readonly TrustedProxy[] _everyProfile;
    private readonly FrozenDictionary<string, TrustedProxy[]> _byProfile;
    private readonly FrozenDictionary<string, string> _listByProfile;

    /// <param name="proxies">Usable proxies, in id order.</param>
    /// <param name="profiles">The names of the served profiles.</param>
    public TrustedProxies(IReadOnlyList<TrustedProxy> proxies, IEnumerable<string> profiles)
    {
        All = proxies;
        _everyProfile = [.. proxies.Where(static p => p.Profile is null)];
        _byProfile = proxies.Where(static p => p.Profile is not null)
            .GroupBy(static p => p.Profile!, StringComparer.Ordinal)
            .ToFrozenDictionary(static g => g.Key, static g => g.ToArray(), StringComparer.Ordinal);

        var listByProfile = new Dictionary<string, string>(StringComparer.Ordinal);
        var lists = new List<ProxyList>();
        foreach (var profile in profiles)
        {
            if (_byProfile.TryGetValue(profile, out var own))
            {
                var name = ProfileListPrefix + profile;
                listByProfile[profile] = name;
                lists.Add(new ProxyList(name, [.. _everyProfile.Concat(own).Select(static p => p.Network)]));
            }
            else if (_everyProfile.Length > 0)
            {
                listByProfile[profile] = SharedList;
                if (!lists.Exists(static l => l.Name == SharedList))
                {
                    lists.Add(new ProxyList(SharedList, [.. _everyProfile.Select(static p => p.Network)]));
                }
            }
        }

        _listByProfile = listByProfile.ToFrozenDictionary(StringComparer.Ordinal);
        Lists = lists;
    }

    public IReadOnlyList<TrustedProxy> All { get; }

    /// <summary>The acl.conf lists to serve, with their networks before aggregation.</summary>
    public IReadOnlyList<ProxyList> Lists { get; }

    /// <summary>Whether a profile name would collide with a generated list name (such profiles are refused).</summary>
    public static bool IsReservedName(string name) =>
        name == SharedList || name.StartsWith(ProfileListPrefix, StringComparison.Ordinal);

    /// <summary>The list the profile's <c>apply-proxy-acl</c> names, or null: the profile trusts no proxy.</summary>
    public string? ListFor(string profile) => _listByProfile.GetValueOrDefault(profile);

    /// <summary>
    /// The proxy that <paramref name="source"/> belongs to and that is trusted on <paramref name="profile"/>
    /// (null: the global ones only), or null. On the dialplan path: no allocation, a scan of a handful.
    /// </summary>
    public TrustedProxy? Find(IpAddressKey source, string? profile)
    {
        if (_byProfile.Count > 0 && profile is not null && _byProfile.TryGetValue(profile, out var own))
        {
            foreach (var proxy in own)
            {
                if (proxy.Network.Contains(source))
                {
                    return proxy;
                }
            }
        }

        foreach (var proxy in _everyProfile)
        {
            if (proxy.Network.Contains(source))
            {
                return proxy;
            }
        }

        return null;
    }
}

/// <summary>An acl.conf list of trusted proxies, named by <c>apply-proxy-acl</c>.</summary>
public sealed record ProxyList(string Name, IReadOnlyList<IpNetwork> Networks);
