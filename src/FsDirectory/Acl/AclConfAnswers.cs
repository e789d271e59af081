using FsDirectory.Data;
using FsDirectory.IpAuth;
using FsDirectory.Xml;
using Microsoft.Extensions.Options;

namespace FsDirectory.Acl;

/// <summary>
/// acl.conf: one default-deny list per active SIP profile, named as the profile (so the profile's
/// <c>apply-inbound-acl</c> finds it), allowing the aggregated networks of the usable rules that
/// apply on that profile; and the trusted-proxy lists the profiles' <c>apply-proxy-acl</c> name
/// (see <see cref="Proxies.TrustedProxies"/>), kept apart from the inbound lists so that a proxy's
/// address alone never lets a call in. Built once per snapshot.
/// </summary>
public sealed class AclConfAnswers(IOptionsMonitor<AclOptions> options) : ISnapshotWarmer
{
    public XmlAnswer Answer(Snapshot snapshot) =>
        new(snapshot.Answer("acl.conf", Build), "answered");

    public void Warm(Snapshot snapshot) => Answer(snapshot);

    /// <summary>The allowed networks per list name, aggregated: also what tests and the admin API compare against.</summary>
    public static Dictionary<string, List<IpNetwork>> ProfileNetworks(Snapshot snapshot) =>
        snapshot.Profiles.ToDictionary(
            p => p.Name,
            p => CidrAggregator.Aggregate(snapshot.UsableRules.Where(r => r.AppliesToProfile(p.Name)).Select(r => r.Network)),
            StringComparer.Ordinal);

    private byte[] Build(Snapshot snapshot)
    {
        var staticLists = options.CurrentValue.Lists;
        var lists = ProfileNetworks(snapshot);
        foreach (var proxies in snapshot.Proxies.Lists)
        {
            lists[proxies.Name] = CidrAggregator.Aggregate(proxies.Networks);
        }

        // Sized up front (a node line is under 48 bytes for IPv4, 96 for IPv6): growing by doubling
        // would leave several copies of a multi-megabyte document behind as garbage.
        var xml = new FsXmlWriter(64 * 1024 + lists.Values.Sum(l => l.Sum(n => n.IsV4 ? 48 : 96))).StartDocument("configuration");
        xml.Start("configuration").Attr("name", "acl.conf").Attr("description", "Network Lists (FsDirectory)").Open();
        xml.Start("network-lists").Open();
        foreach (var (name, networks) in lists)
        {
            xml.Start("list").Attr("name", name).Attr("default", "deny").Open();
            foreach (var network in networks)
            {
                xml.Start("node").Attr("type", "allow").Attr("cidr", network).Close();
            }

            foreach (var list in staticLists.Where(l => l.Name == name))
            {
                WriteStaticNodes(xml, list);
            }

            xml.End("list");
        }

        foreach (var list in staticLists.Where(l => !lists.ContainsKey(l.Name)))
        {
            xml.Start("list").Attr("name", list.Name).Attr("default", list.Default).Open();
            WriteStaticNodes(xml, list);
            xml.End("list");
        }

        xml.End("network-lists").End("configuration").EndDocument();
        return xml.ToArray();
    }

    private static void WriteStaticNodes(FsXmlWriter xml, StaticAclList list)
    {
        foreach (var node in list.Nodes)
        {
            xml.Start("node").Attr("type", node.Type).Attr("cidr", IpNetwork.Parse(node.Cidr)).Close();
        }
    }
}

/// <summary>Refuses to start with a static ACL node FreeSWITCH would misread.</summary>
public sealed class AclOptionsValidator : IValidateOptions<AclOptions>
{
    public ValidateOptionsResult Validate(string? name, AclOptions options)
    {
        var errors = new List<string>();
        foreach (var list in options.Lists)
        {
            if (string.IsNullOrWhiteSpace(list.Name))
            {
                errors.Add("Acl:Lists: every list needs a Name");
            }

            foreach (var node in list.Nodes)
            {
                if (!IpNetwork.TryParse(node.Cidr, out _, out var error))
                {
                    errors.Add($"Acl:Lists:{list.Name}: node '{node.Cidr}': {error}");
                }

                if (node.Type is not ("allow" or "deny"))
                {
                    errors.Add($"Acl:Lists:{list.Name}: node type must be allow or deny");
                }
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
