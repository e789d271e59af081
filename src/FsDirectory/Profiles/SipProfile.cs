namespace FsDirectory.Profiles;

/// <summary>An active sip_profiles row with valid settings, and its active gateways.</summary>
public sealed record SipProfile
{
    public required int Id { get; init; }
    public required string Name { get; init; }
    public required string SipIp { get; init; }
    public required string SipPort { get; init; }
    public required KeyValuePair<string, string>[] Params { get; init; }
    public required IReadOnlyList<Gateway> Gateways { get; init; }

    /// <summary>The acl.conf list of trusted proxies served as <c>apply-proxy-acl</c>; null = none (the param is left out).</summary>
    public string? ProxyAcl { get; init; }

    /// <summary>How IP-authenticated calls get in: the switch's ACL, or the dialplan answer alone.</summary>
    public IpAuthMode Mode { get; init; }

    /// <summary>Whether acl.conf serves this profile's list of customer addresses (only in <see cref="IpAuthMode.Acl"/>).</summary>
    public bool ServesCustomerAcl => Mode == IpAuthMode.Acl;

    /// <summary>Whether a switch would be served the same profile (its row and gateway ids aside).</summary>
    public bool ServesSameAs(SipProfile other) =>
        SipIp == other.SipIp
        && SipPort == other.SipPort
        && Params.SequenceEqual(other.Params)
        && ProxyAcl == other.ProxyAcl
        && Mode == other.Mode
        && Gateways.Count == other.Gateways.Count
        && Gateways.Zip(other.Gateways).All(static g => g.First.Name == g.Second.Name && g.First.Params.SequenceEqual(g.Second.Params));
}

public sealed record Gateway
{
    public required int Id { get; init; }
    public required string Name { get; init; }
    public required KeyValuePair<string, string>[] Params { get; init; }
}
