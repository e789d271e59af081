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
