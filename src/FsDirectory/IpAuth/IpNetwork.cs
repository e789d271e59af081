using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FsDirectory.IpAuth;

/// <summary>
/// An IPv4 or IPv6 network in canonical form: host bits cleared, IPv4-mapped IPv6 folded into IPv4.
/// Addresses are kept as an unsigned integer (IPv4 in the low 32 bits) so that matching and
/// aggregation are integer operations.
/// </summary>
public readonly record struct IpNetwork : ISpanFormattable
{
    // Two 64-bit halves rather than a UInt128 field: UInt128 is 16-byte aligned, and every rule
    // holding a network would be padded by 16 bytes for it (16 MB at a million rules).
    private readonly ulong _high;
    private readonly ulong _low;

    public IpNetwork(UInt128 bits, int prefixLength, bool isV4)
        : this((ulong)(bits >> 64), (ulong)bits, prefixLength, isV4)
    {
    }

    internal IpNetwork(ulong high, ulong low, int prefixLength, bool isV4)
    {
        _high = high;
        _low = low;
        PrefixLength = prefixLength;
        IsV4 = isV4;
    }

    public UInt128 Bits => new(_high, _low);

    internal ulong High => _high;

    internal ulong Low => _low;

    public int PrefixLength { get; }

    public bool IsV4 { get; }

    public int Width => IsV4 ? 32 : 128;

    public bool IsHost => PrefixLength == Width;

    public UInt128 First => Bits;

    public UInt128 Last => Bits | ~Mask(Width, PrefixLength) & AllOnes(Width);

    public static UInt128 AllOnes(int width) => width == 128 ? UInt128.MaxValue : (UInt128.One << width) - 1;

    public static UInt128 Mask(int width, int prefixLength) =>
        prefixLength == 0 ? UInt128.Zero : (UInt128.MaxValue << (128 - prefixLength)) >> (128 - width);

    public bool Contains(IpAddressKey address) =>
        address.IsV4 == IsV4 && (address.Bits & Mask(Width, PrefixLength)) == Bits;

    public bool Contains(IpNetwork other) =>
        other.IsV4 == IsV4 && other.PrefixLength >= PrefixLength && (other.Bits & Mask(Width, PrefixLength)) == Bits;

    /// <summary>Parses an address or CIDR as stored in <c>ip_map.ip</c>. Strict: dotted-quad IPv4 only, no hostnames, no zone ids.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out IpNetwork? network, out string? error)
    {
        network = null;
        var s = (text ?? string.Empty).Trim();
        if (s.Length == 0)
        {
            error = "empty address";
            return false;
        }

        var slash = s.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? s : s[..slash];
        if (!IpAddressKey.TryParse(addressText, out var address, out var mappedV6, out error))
        {
            return false;
        }

        var width = address.IsV4 ? 32 : 128;
        var length = width;
        if (slash >= 0)
        {
            var lengthText = s[(slash + 1)..];
            if (lengthText.Length is 0 or > 3 || !lengthText.All(char.IsAsciiDigit)
                || !int.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out length))
            {
                error = $"invalid prefix length '/{lengthText}'";
                return false;
            }

            if (mappedV6)
            {
                // ::ffff:a.b.c.d/120 is the IPv4 network a.b.c.d/24.
                if (length < 96 || length > 128)
                {
                    error = "an IPv4-mapped IPv6 network needs a prefix length of 96 to 128";
                    return false;
                }

                length -= 96;
            }
            else if (length > width)
            {
                error = $"prefix length /{length} is longer than /{width}";
                return false;
            }
        }

        network = new IpNetwork(address.Bits & Mask(width, length), length, address.IsV4);
        error = null;
        return true;
    }

    public static IpNetwork Parse(string text) =>
        TryParse(text, out var network, out var error) ? network.Value : throw new FormatException(error);

    /// <summary>Canonical text, always with a <c>/</c> (FreeSWITCH ignores an ACL node without one).</summary>
    public override string ToString() => ToString(null, null);

    public string ToString(string? format, IFormatProvider? formatProvider)
    {
        Span<char> text = stackalloc char[64];
        return TryFormat(text, out var written, default, null) ? new string(text[..written]) : throw new InvalidOperationException("network text longer than 64 characters");
    }

    /// <summary>Writes the canonical text without allocating: acl.conf writes one node per network, up to millions.</summary>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        charsWritten = 0;
        if (!new IpAddressKey(Bits, IsV4).TryFormat(destination, out var address) || address >= destination.Length)
        {
            return false;
        }

        destination[address] = '/';
        if (!PrefixLength.TryFormat(destination[(address + 1)..], out var length, default, CultureInfo.InvariantCulture))
        {
            return false;
        }

        charsWritten = address + 1 + length;
        return true;
    }
}

/// <summary>A single source address, IPv4-mapped IPv6 folded into IPv4.</summary>
public readonly record struct IpAddressKey(UInt128 Bits, bool IsV4)
{
    /// <summary>The longest IPv6 text: eight groups, or six and an IPv4 tail (45 characters).</summary>
    private const int MaxV6Length = 45;

    private static readonly System.Buffers.SearchValues<char> V6Chars = System.Buffers.SearchValues.Create("0123456789ABCDEFabcdef:.");

    public static bool TryParse(ReadOnlySpan<char> text, out IpAddressKey address) =>
        TryParse(text, out address, out _, out _);

    /// <summary>
    /// Parses a stored or configured address (ip_map, Hunt-Network-Addr): surrounding spaces and IPv6
    /// brackets are tolerated, everything else as strictly as <see cref="TryParseExact"/>.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out IpAddressKey address, out bool wasMappedV6, out string? error)
    {
        text = text.Trim();
        if (text.Length > 2 && text[0] == '[' && text[^1] == ']' && text.Contains(':'))
        {
            text = text[1..^1];
        }

        if (text.Contains('%') && text.Contains(':'))
        {
            address = default;
            wasMappedV6 = false;
            error = "IPv6 zone ids are not accepted";
            return false;
        }

        return TryParseCore(text, out address, out wasMappedV6, out error);
    }

    /// <summary>
    /// Exactly one IPv4 or IPv6 address and nothing else, for a value a proxy vouches for (X-AUTH-IP):
    /// no spaces, brackets, port, zone id, list or prefix length, and IPv4 only as a dotted quad
    /// without leading zeros. IPAddress.TryParse alone would take "1", "0x7f.1", "017.0.0.1" or "[::1]:5060".
    /// </summary>
    public static bool TryParseExact(ReadOnlySpan<char> text, out IpAddressKey address) =>
        TryParseCore(text, out address, out _, out _);

    private static bool TryParseCore(ReadOnlySpan<char> text, out IpAddressKey address, out bool wasMappedV6, out string? error)
    {
        address = default;
        wasMappedV6 = false;
        if (text.Length is 0 or > MaxV6Length)
        {
            error = text.Length == 0 ? "empty address" : "address too long";
            return false;
        }

        if (!text.Contains(':'))
        {
            if (!TryParseDottedQuad(text, out var v4))
            {
                error = $"'{text}' is not an IPv4 address (dotted quad) or IPv6 address; hostnames are not accepted";
                return false;
            }

            address = new IpAddressKey(v4, true);
            error = null;
            return true;
        }

        // Hex digits, colons and the dots of an embedded IPv4 tail: no brackets, ports, zone ids or spaces.
        if (text.ContainsAnyExcept(V6Chars) || !IPAddress.TryParse(text, out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6
            || (text.Contains('.') && !TryParseDottedQuad(text[(text.LastIndexOf(':') + 1)..], out _)))
        {
            error = $"'{text}' is not an IPv6 address";
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        ip.TryWriteBytes(bytes, out _);
        var bits = System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes);
        if (ip.IsIPv4MappedToIPv6)
        {
            wasMappedV6 = true;
            address = new IpAddressKey(bits & uint.MaxValue, true);
        }
        else
        {
            address = new IpAddressKey(bits, false);
        }

        error = null;
        return true;
    }

    // Strict dotted quad: IPAddress.TryParse would also take "10.1", "0x7f.1" or "017.0.0.1".
    private static bool TryParseDottedQuad(ReadOnlySpan<char> text, out uint value)
    {
        value = 0;
        var parts = 0;
        foreach (var range in text.Split('.'))
        {
            var part = text[range];
            if (part.Length is 0 or > 3 || !AllDigits(part) || (part.Length > 1 && part[0] == '0')
                || !uint.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var octet) || octet > 255)
            {
                return false;
            }

            value = (value << 8) | octet;
            parts++;
        }

        return parts == 4;
    }

    private static bool AllDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    public override string ToString()
    {
        Span<char> text = stackalloc char[64];
        return TryFormat(text, out var written) ? new string(text[..written]) : throw new InvalidOperationException("address text longer than 64 characters");
    }

    public bool TryFormat(Span<char> destination, out int charsWritten)
    {
        if (IsV4)
        {
            var v = (uint)Bits;
            return destination.TryWrite(CultureInfo.InvariantCulture, $"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}", out charsWritten);
        }

        Span<ushort> groups = stackalloc ushort[8];
        for (var i = 0; i < 8; i++)
        {
            groups[i] = (ushort)(Bits >> (112 - (16 * i)));
        }

        // Addresses .NET writes with a dotted IPv4 tail (::a.b.c.d, ::ffff:a.b.c.d, ISATAP) keep its
        // formatting; every other address is written here without allocating (acl.conf at a million
        // rules writes tens of thousands per build), in the same RFC 5952 form.
        if ((groups[0] | groups[1] | groups[2] | groups[3]) == 0 || (groups[4] == 0 && groups[5] == 0x5EFE))
        {
            Span<byte> bytes = stackalloc byte[16];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, Bits);
            return new IPAddress(bytes).TryFormat(destination, out charsWritten);
        }

        return TryFormatV6(groups, destination, out charsWritten);
    }

    /// <summary>Lowercase hex groups without leading zeros, the longest run of two or more zero groups (the first of equals) as "::".</summary>
    private static bool TryFormatV6(ReadOnlySpan<ushort> groups, Span<char> destination, out int charsWritten)
    {
        int zerosAt = -1, zeros = 0;
        for (int i = 0, run = 0; i < 8; i++)
        {
            run = groups[i] == 0 ? run + 1 : 0;
            if (run > zeros)
            {
                (zerosAt, zeros) = (i - run + 1, run);
            }
        }

        if (zeros < 2)
        {
            zerosAt = -1;
        }

        charsWritten = 0;
        for (var i = 0; i < 8; i++)
        {
            if (i == zerosAt)
            {
                if (destination.Length - charsWritten < 2)
                {
                    return false;
                }

                destination[charsWritten++] = ':';
                destination[charsWritten++] = ':';
                i += zeros - 1;
                continue;
            }

            if (i > 0 && i != zerosAt + zeros)
            {
                if (destination.Length == charsWritten)
                {
                    return false;
                }

                destination[charsWritten++] = ':';
            }

            if (!groups[i].TryFormat(destination[charsWritten..], out var written, "x", CultureInfo.InvariantCulture))
            {
                return false;
            }

            charsWritten += written;
        }

        return true;
    }
}
