using FsDirectory.IpAuth;

namespace FsDirectory.Tests.IpAuth;

public sealed class IpNetworkTests
{
    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7/32")]
    [InlineData(" 203.0.113.7/24 ", "203.0.113.0/24")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("2001:DB8::1", "2001:db8::1/128")]
    [InlineData("2001:db8:0:0:1::/64", "2001:db8::/64")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7/32")]
    [InlineData("::ffff:203.0.113.7/120", "203.0.113.0/24")]
    [InlineData("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128")]
    public void Addresses_and_cidrs_parse_to_canonical_networks(string text, string canonical)
    {
        Assert.True(IpNetwork.TryParse(text, out var network, out var error), error);
        Assert.Equal(canonical, network.ToString());
    }

    [Theory]
    [InlineData("pbx.example.com")]
    [InlineData("10.1")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("017.0.0.1")]
    [InlineData("256.0.0.1")]
    [InlineData("1.2.3.4/33")]
    [InlineData("1.2.3.4/")]
    [InlineData("1.2.3.4/-1")]
    [InlineData("1.2.3.4/+8")]
    [InlineData("2001:db8::/129")]
    [InlineData("fe80::1%eth0")]
    [InlineData("::ffff:1.2.3.4/64")]
    [InlineData("")]
    [InlineData("1.2.3.4 5")]
    public void Anything_else_is_refused_with_a_reason(string text)
    {
        Assert.False(IpNetwork.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Containment_respects_the_mask_and_the_family()
    {
        var net = IpNetwork.Parse("198.51.100.0/24");

        Assert.True(IpAddressKey.TryParse("198.51.100.255", out var inside));
        Assert.True(IpAddressKey.TryParse("198.51.101.0", out var outside));
        Assert.True(IpAddressKey.TryParse("::ffff:198.51.100.1", out var mapped));
        Assert.True(IpAddressKey.TryParse("::c633:6401", out var v6));
        Assert.True(net.Contains(inside));
        Assert.False(net.Contains(outside));
        Assert.True(net.Contains(mapped));
        Assert.False(net.Contains(v6));
    }

    [Fact]
    public void Formatting_into_a_buffer_gives_the_same_text_as_the_system_formatter()
    {
        var random = new Random(11);
        Span<char> buffer = stackalloc char[64];
        for (var i = 0; i < 2_000; i++)
        {
            var v4 = i % 2 == 0;
            var bytes = new byte[v4 ? 4 : 16];
            random.NextBytes(bytes);
            if (!v4 && random.Next(2) == 0)
            {
                // Runs of zero groups, so that IPv6 "::" compression is exercised.
                var start = random.Next(0, 8) * 2;
                Array.Clear(bytes, start, Math.Min(16 - start, random.Next(1, 5) * 2));
            }

            var length = random.Next(0, (v4 ? 32 : 128) + 1);
            var network = IpNetwork.Parse($"{new System.Net.IPAddress(bytes)}/{length}");
            var networkBytes = ToBytes(network.Bits);
            var expected = $"{new System.Net.IPAddress(v4 ? networkBytes[12..] : networkBytes)}/{length}";

            Assert.True(network.TryFormat(buffer, out var written, default, null));
            Assert.Equal(expected, buffer[..written].ToString());
            Assert.Equal(expected, network.ToString());
        }
    }

    [Fact]
    public void Ipv6_hosts_with_every_pattern_of_zero_groups_are_written_as_the_system_writes_them()
    {
        // Every choice of zero groups (which "::" must compress: the longest run, the first of equals,
        // never a single group), with values that .NET writes with a dotted IPv4 tail among the others.
        var random = new Random(5);
        ushort[] special = [0xFFFF, 0x5EFE, 0x1, 0xABCD];
        for (var zeros = 0; zeros < 256; zeros++)
        {
            for (var round = 0; round < 8; round++)
            {
                var bytes = new byte[16];
                for (var g = 0; g < 8; g++)
                {
                    var value = (zeros >> g & 1) == 1 ? (ushort)0 : round % 2 == 0 ? special[random.Next(special.Length)] : (ushort)random.Next(1, 0x10000);
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(g * 2), value);
                }

                var address = new System.Net.IPAddress(bytes);
                var key = new IpAddressKey(System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes), IsV4: false);
                Assert.Equal(address.ToString(), key.ToString());
            }
        }
    }

    [Fact]
    public void Formatting_into_a_buffer_that_is_too_small_fails_instead_of_truncating()
    {
        var network = IpNetwork.Parse("203.0.113.0/24");
        Span<char> buffer = stackalloc char[13];

        Assert.False(network.TryFormat(buffer, out _, default, null));
        Assert.True(network.TryFormat(stackalloc char[14], out var written, default, null));
        Assert.Equal(14, written);
    }

    private static byte[] ToBytes(UInt128 bits)
    {
        var bytes = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, bits);
        return bytes;
    }
}
