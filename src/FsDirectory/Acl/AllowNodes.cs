namespace FsDirectory.Acl;

/// <summary>
/// How acl.conf writes a list's allowed networks: up to <see cref="MaxCidrs"/> of them in one
/// <c>&lt;node type="allow" cidr="a/32,b/32,…"/&gt;</c>. FreeSWITCH's XML parse is quadratic in a
/// parent's children (switch_xml_insert walks them for each new one) and runs under the lock every
/// INVITE's ACL check waits on, so 32 times fewer elements make a reload far cheaper than 32 times.
/// <para>
/// Why it allows exactly what one node per network allows (FreeSWITCH 1.11, src/switch_utils.c, read
/// for this): <c>switch_network_list_add_cidr_port_token</c> splits a <c>cidr</c> containing a comma
/// with <c>switch_separate_string(…, ',', argv, 32)</c> and adds each piece through
/// <c>switch_network_list_perform_add_cidr_token</c>, in order, with the node's type: the very calls,
/// in the very order, that one element per network makes. The list built is therefore the same, and a
/// decision depends on nothing else (<c>switch_network_list_validate_ip_token</c> takes the matching
/// node with the most bits, a tie going to the one added first). Only allow nodes are packed, runs of
/// them in document order; a static deny or allow node from Acl:Lists is still an element of its own,
/// after them, as before. The split stops at 32 pieces and leaves the rest in the 32nd, which would
/// then not parse as one network: never more than <see cref="MaxCidrs"/> in a node.
/// </para>
/// </summary>
public static class AllowNodes
{
    public const int MaxCidrs = 32;

    public static ReadOnlySpan<byte> Open => "<node type=\"allow\" cidr=\""u8;

    public static ReadOnlySpan<byte> Close => "\"/>\n"u8;

    public static ReadOnlySpan<byte> Separator => ","u8;

    /// <summary>The end of a full node and the start of the next.</summary>
    public static ReadOnlySpan<byte> Next => "\"/>\n<node type=\"allow\" cidr=\""u8;

    /// <summary>The elements <paramref name="cidrs"/> networks written from a fresh node take.</summary>
    public static int NodesFor(int cidrs) => (cidrs + MaxCidrs - 1) / MaxCidrs;
}
