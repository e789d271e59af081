using FsDirectory.IpAuth;

namespace FsDirectory.Proxies;

/// <summary>
/// A usable <c>fsdir_trusted_proxies</c> row: a SIP proxy (Kamailio, OpenSIPS) whose <c>X-AUTH-IP</c>
/// header names the caller FreeSWITCH and the dialplan authenticate, instead of the proxy's own address.
/// </summary>
public sealed record TrustedProxy
{
    /// <summary>
    /// The broadest networks accepted: every address in a trusted range can claim to relay any caller,
    /// so a range wider than a proxy pool's subnet is a mistake, not a convenience.
    /// </summary>
    public const int MinV4PrefixLength = 16;
    public const int MinV6PrefixLength = 48;

    public required int Id { get; init; }
    public required string Name { get; init; }
    public required IpNetwork Network { get; init; }

    /// <summary>The SIP profile the proxy is trusted on; null = every profile.</summary>
    public required string? Profile { get; init; }

    /// <summary>Why <paramref name="network"/> cannot be a trusted proxy, or null when it can.</summary>
    public static string? RefuseNetwork(IpNetwork network)
    {
        var minimum = network.IsV4 ? MinV4PrefixLength : MinV6PrefixLength;
        return network.PrefixLength < minimum
            ? $"{network} is wider than /{minimum}: every address in a trusted proxy range can claim any caller's address"
            : null;
    }
}
