using FsDirectory.Collections;

namespace FsDirectory.IpAuth;

/// <summary>A usable IP rule: an <c>ip_map</c> row that passed every check, joined with its account.</summary>
public sealed record IpRule
{
    // A million of these are live at once, so a rule is 64 bytes: the network is held as its parts
    // (an IpNetwork field is padded to 24 bytes), the name as UTF-8 packed with other names
    // (PackedText: 13 bytes instead of a 48-byte string for "bench 123456"), and what the
    // account's rules share is one RuleTerms.
    private readonly ulong _high;
    private readonly ulong _low;
    private readonly byte[] _nameBlock = [];

    // The name's offset in its block (16 bits), the network's prefix length (8) and IPv4 (1).
    private readonly uint _packed;

    public required int Id { get; init; }

    public required string Name
    {
        get => PackedText.Read(_nameBlock, NameOffset);
        init => PackedName = (PackedText.Alone(value), 0);
    }

    public required IpNetwork Network
    {
        get => new(_high, _low, PrefixLength, IsV4);
        init
        {
            (_high, _low) = (value.High, value.Low);
            _packed = (uint)NameOffset | ((uint)value.PrefixLength << 16) | (value.IsV4 ? 1u << 24 : 0);
        }
    }

    public required string Prefix { get; init; }

    /// <summary>The account, reseller, pricelist, context and profile: usually the same for all of an account's rules, and shared by them.</summary>
    public required RuleTerms Terms { get; init; }

    private (byte[] Block, int Offset) PackedName
    {
        init
        {
            _nameBlock = value.Block;
            _packed = (_packed & ~0xFFFFu) | (uint)value.Offset;
        }
    }

    private ReadOnlySpan<byte> NameUtf8 => PackedText.Utf8(_nameBlock, NameOffset);

    private int NameOffset => (int)(_packed & 0xFFFF);

    private int PrefixLength => (int)(_packed >> 16) & 0xFF;

    private bool IsV4 => (_packed & (1u << 24)) != 0;

    /// <summary>This rule with its name packed where <paramref name="name"/> says, and its prefix and terms replaced by equal shared ones.</summary>
    public IpRule Sharing((byte[] Block, int Offset) name, string prefix, RuleTerms terms) =>
        this with { PackedName = name, Prefix = prefix, Terms = terms };

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

        c = b.PrefixLength.CompareTo(a.PrefixLength);
        return c != 0 ? c : a.Id.CompareTo(b.Id);
    }

    /// <summary>Equal rules answer alike: the same row, network, name, prefix and terms, wherever the name is packed.</summary>
    public bool Equals(IpRule? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (Id == other.Id && _high == other._high && _low == other._low && (_packed >> 16) == (other._packed >> 16)
                && Prefix == other.Prefix && Terms.Equals(other.Terms) && NameUtf8.SequenceEqual(other.NameUtf8)));

    public override int GetHashCode() => HashCode.Combine(Id, _high, _low, _packed >> 16, Prefix);
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
