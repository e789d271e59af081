using FsDirectory.FreeSwitch;
using FsDirectory.IpAuth;

namespace FsDirectory.Tests.Proxies;

/// <summary>X-AUTH-IP names the caller a trusted proxy vouches for: exactly one address, or nothing.</summary>
public sealed class XAuthIpParsingTests
{
    [Theory]
    [InlineData("203.0.113.10", "203.0.113.10")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("255.255.255.255", "255.255.255.255")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("2001:DB8:0:0:0:0:0:1", "2001:db8::1")]
    [InlineData("::1", "::1")]
    [InlineData("fe80::1", "fe80::1")]
    [InlineData("::ffff:203.0.113.10", "203.0.113.10")]
    [InlineData("64:ff9b::192.0.2.33", "64:ff9b::c000:221")]
    [InlineData("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8")]
    public void Exactly_one_address_is_accepted_and_read_canonically(string header, string canonical)
    {
        Assert.True(IpAddressKey.TryParseExact(header, out var address));
        Assert.Equal(canonical, address.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData(" 203.0.113.10")]
    [InlineData("203.0.113.10 ")]
    [InlineData("203.0.113.10\t")]
    [InlineData("203.0.113.10\r\n")]
    [InlineData("203.0.113.10, 198.51.100.1")]
    [InlineData("203.0.113.10,198.51.100.1")]
    [InlineData("203.0.113.10;198.51.100.1")]
    [InlineData("203.0.113.10 198.51.100.1")]
    [InlineData("203.0.113.10:5060")]
    [InlineData("203.0.113.10/32")]
    [InlineData("203.0.113.0/24")]
    [InlineData("[2001:db8::1]")]
    [InlineData("[2001:db8::1]:5060")]
    [InlineData("2001:db8::1/128")]
    [InlineData("2001:db8::1%eth0")]
    [InlineData("fe80::1%25eth0")]
    [InlineData("2001:db8::1 ")]
    [InlineData("2001:db8::g")]
    [InlineData("2001:db8:::1")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("::ffff:203.0.113.010")]
    [InlineData("::ffff:203.1")]
    [InlineData("1")]
    [InlineData("127.1")]
    [InlineData("10.0.1")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("0x7f000001")]
    [InlineData("2130706433")]
    [InlineData("017.0.0.1")]
    [InlineData("203.0.113.010")]
    [InlineData("256.0.0.1")]
    [InlineData("203.0.113.10.")]
    [InlineData(".203.0.113.10")]
    [InlineData("203..113.10")]
    [InlineData("+203.0.113.10")]
    [InlineData("203.0.113.10x")]
    [InlineData("x203.0.113.10")]
    [InlineData("localhost")]
    [InlineData("pbx.example.com")]
    [InlineData("unknown")]
    [InlineData("${sip_h_X-Other}")]
    [InlineData("２０３.0.113.10")]
    [InlineData("203.0.113.10\0")]
    public void Anything_but_exactly_one_address_is_refused(string header)
    {
        Assert.False(IpAddressKey.TryParseExact(header, out _));
    }

    [Fact]
    public void Stored_addresses_keep_tolerating_spaces_and_brackets_but_not_a_port()
    {
        Assert.True(IpAddressKey.TryParse(" [2001:db8::1] ", out var bracketed));
        Assert.Equal("2001:db8::1", bracketed.ToString());
        Assert.False(IpAddressKey.TryParse("[2001:db8::1]:5060", out _));
        Assert.False(IpNetwork.TryParse("[2001:db8::1]:5060", out _, out _));
    }

    [Fact]
    public void A_repeated_x_auth_ip_field_is_read_as_one_list_whatever_its_letter_case()
    {
        var request = FreeSwitchRequest.FromFields(
        [
            new("section", "dialplan"),
            new("variable_sip_h_X-AUTH-IP", "203.0.113.10"),
            new("variable_sip_h_x-auth-ip", "198.51.100.1"),
        ]);

        Assert.Null(request.Failure);
        Assert.Equal("203.0.113.10,198.51.100.1", request.XAuthIp);
        Assert.False(IpAddressKey.TryParseExact(request.XAuthIp, out _));
    }

    // Sofia's renamed copies are part of the list; headers that merely start like it are not.
    [Theory]
    [InlineData("variable_sip_h_X-AUTH-IP-1", true)]
    [InlineData("variable_sip_h_x-auth-ip-2", true)]
    [InlineData("VARIABLE_SIP_H_X-AUTH-IP-10", true)]
    [InlineData("variable_sip_h_X-AUTH-IP-", false)]
    [InlineData("variable_sip_h_X-AUTH-IP-1a", false)]
    [InlineData("variable_sip_h_X-AUTH-IPS", false)]
    [InlineData("variable_sip_h_X-AUTH-IP_1", false)]
    [InlineData("variable_sip_h_X-AUTH-IP-COPY", false)]
    public void Sofias_renamed_copies_of_the_header_are_read_as_part_of_the_list(string other, bool isCopy)
    {
        var request = FreeSwitchRequest.FromFields([new("variable_sip_h_X-AUTH-IP", "203.0.113.10"), new(other, "198.51.100.1")]);

        Assert.Equal(isCopy ? "203.0.113.10,198.51.100.1" : "203.0.113.10", request.XAuthIp);
        Assert.Equal(isCopy ? 2 : 1, request.XAuthIpCopies);
    }

    [Fact]
    public void A_missing_header_is_told_apart_from_an_empty_one()
    {
        Assert.Null(FreeSwitchRequest.FromFields([new("section", "dialplan")]).XAuthIp);
        Assert.Equal(string.Empty, FreeSwitchRequest.FromFields([new("variable_sip_h_X-AUTH-IP", string.Empty)]).XAuthIp);
    }
}
