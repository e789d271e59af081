using System.Text;
using FsDirectory.Collections;

namespace FsDirectory.IpAuth;

/// <summary>A usable IP rule: an <c>ip_map</c> row that passed every check, joined with its account.</summary>
public sealed record IpRule
{
    /// <summary>The longest tech prefix a rule can hold (a row's is at most 20 characters, see <see cref="DialString.IsValidPrefix"/>).</summary>
    public const int MaxPrefixLength = 31;

    // A million of these are live at once, so a rule is 56 bytes: the network is held as its parts
    // (an IpNetwork field is padded to 24 bytes), the tech prefix and name as UTF-8 packed with the
    // other rules' (PackedText: 23 bytes instead of 88 in two strings for "12345678*" and
    // "bench 123456"), and what the account's rules share is one RuleTerms.
    private readonly ulong _high;
    private readonly ulong _low;
    private readonly byte[] _texts = [];

    // The texts' offset in their block (16 bits), the network's prefix length (8), IPv4 (1) and the
    // tech prefix's length (5): the hot path reads the lengths without touching the block.
    private readonly uint _packed;

    public required int Id { get; init; }

    public required string Name
    {
        get => PackedText.Read(_texts, TextsOffset, 1);
        init => Texts = (PackedText.Alone(_texts.Length == 0 ? string.Empty : Prefix, value), 0);
    }

    public required IpNetwork Network
    {
        get => new(_high, _low, NetworkPrefixLength, IsV4);
        init
        {
            (_high, _low) = (value.High, value.Low);
            _packed = (_packed & ~0x1FF_0000u) | ((uint)value.PrefixLength << 16) | (value.IsV4 ? 1u << 24 : 0);
        }
    }

    /// <summary>The tech prefix (ASCII, at most <see cref="MaxPrefixLength"/> characters); empty: any number.</summary>
    public required string Prefix
    {
        get => PackedText.Read(_texts, TextsOffset, 0);
        init
        {
            if (value.Length > MaxPrefixLength || !Ascii.IsValid(value))
            {
                throw new ArgumentException($"a tech prefix is at most {MaxPrefixLength} ASCII characters", nameof(value));
            }

            Texts = (PackedText.Alone(value, _texts.Length == 0 ? string.Empty : Name), 0);
            _packed = (_packed & ~(0x1Fu << 25)) | ((uint)value.Length << 25);
        }
    }

    /// <summary>The account, reseller, pricelist, context and profile: usually the same for all of an account's rules, and shared by them.</summary>
    public required RuleTerms Terms { get; init; }

    public int PrefixLength => (int)(_packed >> 25);

    /// <summary>The prefix and name as packed, to be packed again beside other rules' (<see cref="PackedText.Writer"/>).</summary>
    internal ReadOnlySpan<byte> PackedTexts => PackedText.Entry(_texts, TextsOffset);

    private (byte[] Block, int Offset) Texts
    {
        init
        {
            _texts = value.Block;
            _packed = (_packed & ~0xFFFFu) | (uint)value.Offset;
        }
    }

    private int TextsOffset => (int)(_packed & 0xFFFF);

    private int NetworkPrefixLength => (int)(_packed >> 16) & 0xFF;

    private bool IsV4 => (_packed & (1u << 24)) != 0;

    /// <summary>Whether <paramref name="number"/> starts with the tech prefix. Allocation-free: the hot path of every lookup.</summary>
    public bool PrefixMatches(ReadOnlySpan<char> number)
    {
        if (number.Length < PrefixLength)
        {
            return false;
        }

        var prefix = PackedText.Utf8(_texts, TextsOffset, 0);
        for (var i = 0; i < prefix.Length; i++)
        {
            if (number[i] != prefix[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>This rule with its prefix and name packed where <paramref name="texts"/> says, and its terms replaced by equal shared ones.</summary>
    internal IpRule Sharing((byte[] Block, int Offset) texts, RuleTerms terms) =>
        this with { Texts = texts, Terms = terms };

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
        var c = b.PrefixLength.CompareTo(a.PrefixLength);
        if (c != 0)
        {
            return c;
        }

        c = b.NetworkPrefixLength.CompareTo(a.NetworkPrefixLength);
        return c != 0 ? c : a.Id.CompareTo(b.Id);
    }

    /// <summary>Equal rules answer alike: the same row, network, prefix, name and terms, wherever the texts are packed.</summary>
    public bool Equals(IpRule? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (Id == other.Id && _high == other._high && _low == other._low && (_packed >> 16) == (other._packed >> 16)
                && Terms.Equals(other.Terms) && PackedTexts.SequenceEqual(other.PackedTexts)));

    public override int GetHashCode() => HashCode.Combine(Id, _high, _low, _packed >> 16);
}

/// <summary>What an <see cref="IpRule"/> takes from its account and row besides its address, prefix and name.</summary>
public sealed record RuleTerms
{
    public required int AccountId { get; init; }
    public required string AccountCode { get; init; }
    /// <summary>The account's reseller (<c>accounts.reseller_id</c>, 0 = the operator's own): the channel's <c>fsdir_reseller_id</c>, and whose keys may see the rule.</summary>
    public required int ResellerId { get; init; }

    public required int PricelistId { get; init; }
    public required string Context { get; init; }

    /// <summary>The SIP profile the rule is bound to; null = every profile (no global default configured).</summary>
    public required string? Profile { get; init; }
}
