using System.ComponentModel.DataAnnotations;

namespace FsDirectory.Acl;

/// <summary>Static network lists and nodes served in acl.conf besides the per-profile lists built from ip_map.</summary>
public sealed class AclOptions
{
    public const string Section = "Acl";

    /// <summary>
    /// Extra lists (for example <c>esl</c> for the Event Socket, or trusted proxies). A list named
    /// like a SIP profile adds its nodes to that profile's list.
    /// </summary>
    public List<StaticAclList> Lists { get; set; } = [];

    /// <summary>
    /// The switch's mod_xml_curl <c>response-max-bytes</c>: a larger answer is dropped by the switch
    /// ("Oversized file detected") and it silently falls back to its static acl.conf, while
    /// <c>reloadacl</c> still says +OK. The default matches the shipped
    /// <c>freeswitch-conf/autoload_configs/xml_curl.conf.xml</c>; set it to what the switches use.
    /// </summary>
    public long ResponseMaxBytes { get; set; } = DefaultResponseMaxBytes;

    public const long DefaultResponseMaxBytes = 16 * 1024 * 1024;

    /// <summary>
    /// The most <c>&lt;node&gt;</c> elements acl.conf should have. FreeSWITCH's XML parser walks a
    /// parent's whole child list for each new element (switch_xml_insert), so parsing is quadratic, and
    /// it parses while holding the global lock every INVITE's ACL check waits on. Measured on 1.11.1
    /// (issue 29): 7k nodes 0.15 s, 20k 1.8 s, 70k 22 s, 140k 261 s; a whole reload at 7k nodes took
    /// 0.24-0.36 s. 10,000 keeps a reload at about a third of a second (the curve gives 0.3 s; 20k
    /// would stall calls for 2 s on every change) and, with 32 addresses a node, still holds 320,000
    /// scattered customers. Over it acl.conf is still served (the switch would take it, slowly), and
    /// the status, metrics and log say so.
    /// </summary>
    public int MaxNodes { get; set; } = DefaultMaxNodes;

    public const int DefaultMaxNodes = 10_000;
}

public sealed class StaticAclList
{
    [Required, RegularExpression("^[A-Za-z0-9._-]{1,64}$")]
    public string Name { get; set; } = string.Empty;

    [RegularExpression("^(allow|deny)$")]
    public string Default { get; set; } = "deny";

    public List<StaticAclNode> Nodes { get; set; } = [];
}

public sealed class StaticAclNode
{
    [RegularExpression("^(allow|deny)$")]
    public string Type { get; set; } = "allow";

    /// <summary>An address or CIDR; validated at start-up.</summary>
    [Required]
    public string Cidr { get; set; } = string.Empty;
}
