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
}
