using FsDirectory.Data;
using FsDirectory.IpAuth;
using FsDirectory.Xml;
using Microsoft.Extensions.Options;

namespace FsDirectory.Acl;

/// <summary>
/// acl.conf: one default-deny list per active SIP profile, named as the profile (so the profile's
/// <c>apply-inbound-acl</c> finds it), allowing the aggregated networks of the usable rules that
/// apply on that profile. Built once per snapshot.
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

    private ReadOnlyMemory<byte> Build(Snapshot snapshot)
    {
        var staticLists = options.CurrentValue.Lists;
        var lists = snapshot.Profiles
            .Select(p => (p.Name, Ranges: CidrAggregator.SortedRanges.From(
                snapshot.UsableRules.Where(r => r.AppliesToProfile(p.Name)).Select(r => r.Network), snapshot.UsableRules.Count)))
            .ToList();

        // The buffer is sized once from the nodes' exact length and the document is served from it: at a
        // million rules acl.conf is ~32 MB, and growing by doubling or copying it out would leave that
        // much garbage again after every edit.
        long nodeBytes = 0;
        foreach (var (_, ranges) in lists)
        {
            ranges.Emit(n => nodeBytes += NodeLine.Length + FormattedLength(n));
        }

        var xml = new FsXmlWriter((int)Math.Min(int.MaxValue, 64 * 1024 + nodeBytes + staticLists.Sum(l => 128L * (l.Nodes.Count + 1))))
            .StartDocument("configuration");
        xml.Start("configuration").Attr("name", "acl.conf").Attr("description", "Network Lists (FsDirectory)").Open();
        xml.Start("network-lists").Open();
        foreach (var (name, ranges) in lists)
        {
            xml.Start("list").Attr("name", name).Attr("default", "deny").Open();
            ranges.Emit(network => xml.Start("node").Attr("type", "allow").Attr("cidr", network).Close());
            foreach (var list in staticLists.Where(l => l.Name == name))
            {
                WriteStaticNodes(xml, list);
            }

            xml.End("list");
        }

        foreach (var list in staticLists.Where(l => snapshot.FindProfile(l.Name) is null))
        {
            xml.Start("list").Attr("name", list.Name).Attr("default", list.Default).Open();
            WriteStaticNodes(xml, list);
            xml.End("list");
        }

        xml.End("network-lists").End("configuration").EndDocument();
        return xml.WrittenMemory;
    }

    /// <summary>A node line without its CIDR: <c>&lt;node type="allow" cidr=""/&gt;</c> and the line break.</summary>
    private const string NodeLine = "<node type=\"allow\" cidr=\"\"/>\n";

    private static int FormattedLength(IpNetwork network)
    {
        Span<char> text = stackalloc char[64];
        return network.TryFormat(text, out var written, default, null) ? written : text.Length;
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
