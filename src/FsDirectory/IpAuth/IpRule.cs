namespace FsDirectory.IpAuth;

/// <summary>A usable IP rule: an <c>ip_map</c> row that passed every check, joined with its account.</summary>
public sealed record IpRule
{
    // A million of these are live at once, so the network is held as its parts (an IpNetwork field
    // is padded to 24 bytes) and what the account's rules share is one RuleTerms: 64 bytes a rule
    // instead of 96.
    private readonly ulong _high;
    private readonly ulong _low;
    private readonly byte _prefixLength;
    private readonly bool _isV4;

    public required int Id { get; init; }
    public required string Name { get; init; }

    public required IpNetwork Network
    {
        get => new(_high, _low, _prefixLength, _isV4);
        init => (_high, _low, _prefixLength, _isV4) = (value.High, value.Low, (byte)value.PrefixLength, value.IsV4);
    }

    public required string Prefix { get; init; }

    /// <summary>The account, reseller, pricelist, context and profile: usually the same for all of an account's rules, and shared by them.</summary>
    public required RuleTerms Terms { get; init; }

    public int AccountId => Terms.AccountId;
    public string AccountCode => Terms.AccountCode;
    public int ResellerId => Terms.ResellerId;
    public int PricelistId => Terms.PricelistId;
    public string Context => Terms.Context;

    /// <summary>The SIP profile the rule is bound to; null = every profile (no global default configured).</summary>
    public string? Profile => Terms.Profile;

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

        c = b._prefixLength.CompareTo(a._prefixLength);
        return c != 0 ? c : a.Id.CompareTo(b.Id);
    }
}

/// <summary>What an <see cref="IpRule"/> takes from its account and row besides its address, prefix and name.</summary>
public sealed record RuleTerms
{
    public required int AccountId { get; init; }
    public required string AccountCode { get; init; }
    public required int ResellerId { get; init; }
    public required int PricelistId { get; init; }
    public required string Context { get; init; }

    /// <summary>The SIP profile the rule is bound to; null = every profile (no global default configured).</summary>
    public required string? Profile { get; init; }
}
