using FsDirectory.Xml;

namespace FsDirectory.Acl;

/// <summary>acl.conf as built for one snapshot: its parts and its <c>&lt;node&gt;</c> element count.</summary>
public sealed record AclConfDocument(XmlParts Parts, int Nodes);

/// <summary>
/// What the newest snapshot's acl.conf weighs against what a switch takes (<see cref="AclOptions.ResponseMaxBytes"/>,
/// <see cref="AclOptions.MaxNodes"/>), and what is served for it (<see cref="Serving"/>: <c>built</c>, the
/// snapshot's own document; <c>last good</c>, the newest that fit, from snapshot <see cref="ServedVersion"/>;
/// <c>refused</c>, 503).
/// </summary>
public sealed record AclConfGuard(long SnapshotVersion, long Bytes, int Nodes, long MaxBytes, int MaxNodes, string Serving, long? ServedVersion)
{
    public const string ServingBuilt = "built";
    public const string ServingLastGood = "last good";
    public const string ServingRefused = "refused";

    /// <summary>mod_xml_curl drops an answer of more than response-max-bytes; exactly that many is taken.</summary>
    public bool OverSize => Bytes > MaxBytes;

    public bool OverNodes => Nodes > MaxNodes;
}
