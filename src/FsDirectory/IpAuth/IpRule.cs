namespace FsDirectory.IpAuth;

/// <summary>A usable IP rule: an <c>ip_map</c> row that passed every check, joined with its account.</summary>
public sealed record IpRule
{
    public required int Id { get; init; }
    public required string Name { get; init; }
    public required IpNetwork Network { get; init; }
    public required int AccountId { get; init; }
    public required string AccountCode { get; init; }
    public required int ResellerId { get; init; }
    public required int PricelistId { get; init; }
    public required string Prefix { get; init; }
    public required string Context { get; init; }

    /// <summary>The SIP profile the rule is bound to; null = every profile (no global default configured).</summary>
    public required string? Profile { get; init; }

    public bool AppliesToProfile(string? callProfile) =>
        Profile is null || string.Equals(Profile, callProfile, StringComparison.Ordinal);

    /// <summary>The winning order of the specification: longest prefix, then longest mask, then lowest id.</summary>
    public static int CompareByPrecedence(IpRule a, IpRule b)
    {
        var c = b.Prefix.Length.CompareTo(a.Prefix.Length);
        if (c != 0)
        {
            return c;
        }

        c = b.Network.PrefixLength.CompareTo(a.Network.PrefixLength);
        return c != 0 ? c : a.Id.CompareTo(b.Id);
    }
}
