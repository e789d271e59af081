using FsDirectory.IpAuth;
using FsDirectory.Proxies;

namespace FsDirectory.Tests.Proxies;

public sealed class TrustedProxiesTests
{
    private static TrustedProxy Proxy(int id, string network, string? profile) =>
        new() { Id = id, Name = $"proxy {id}", Network = IpNetwork.Parse(network), Profile = profile };

    private static IpAddressKey Address(string text) => IpAddressKey.TryParse(text, out var address) ? address : throw new FormatException(text);

    [Fact]
    public void Profiles_with_only_global_proxies_share_one_list_and_profiles_with_their_own_get_their_own()
    {
        var proxies = new TrustedProxies([Proxy(1, "192.0.2.1", null), Proxy(2, "192.0.2.2", "trunks")], ["default", "trunks", "carriers"]);

        Assert.Equal("fsdir_proxies", proxies.ListFor("default"));
        Assert.Equal("fsdir_proxies", proxies.ListFor("carriers"));
        Assert.Equal("fsdir_proxies_trunks", proxies.ListFor("trunks"));
        Assert.Equal(["fsdir_proxies", "fsdir_proxies_trunks"], proxies.Lists.Select(l => l.Name).Order());
        Assert.Equal(["192.0.2.1/32"], proxies.Lists.Single(l => l.Name == "fsdir_proxies").Networks.Select(n => n.ToString()));
        Assert.Equal(["192.0.2.1/32", "192.0.2.2/32"], proxies.Lists.Single(l => l.Name == "fsdir_proxies_trunks").Networks.Select(n => n.ToString()));
    }

    [Fact]
    public void Without_proxies_no_profile_gets_a_list()
    {
        var proxies = new TrustedProxies([Proxy(1, "192.0.2.2", "trunks")], ["default", "trunks"]);

        Assert.Null(proxies.ListFor("default"));
        Assert.Equal(["fsdir_proxies_trunks"], proxies.Lists.Select(l => l.Name));
        Assert.Empty(TrustedProxies.Empty.Lists);
    }

    [Fact]
    public void A_proxy_is_trusted_on_its_own_profile_and_a_global_one_on_every_profile()
    {
        var proxies = new TrustedProxies([Proxy(1, "192.0.2.0/28", null), Proxy(2, "2001:db8::20", "trunks")], ["default", "trunks"]);

        Assert.Equal(1, proxies.Find(Address("192.0.2.15"), "default")?.Id);
        Assert.Equal(1, proxies.Find(Address("192.0.2.15"), null)?.Id);
        Assert.Null(proxies.Find(Address("192.0.2.16"), "default"));
        Assert.Equal(2, proxies.Find(Address("2001:db8::20"), "trunks")?.Id);
        Assert.Null(proxies.Find(Address("2001:db8::20"), "default"));
        Assert.Null(proxies.Find(Address("2001:db8::20"), null));
    }

    [Theory]
    [InlineData("0.0.0.0/0")]
    [InlineData("10.0.0.0/8")]
    [InlineData("172.16.0.0/15")]
    [InlineData("2001:db8::/32")]
    [InlineData("::/0")]
    public void Ranges_wider_than_a_proxy_pool_are_refused(string network)
    {
        Assert.NotNull(TrustedProxy.RefuseNetwork(IpNetwork.Parse(network)));
    }

    [Theory]
    [InlineData("10.1.0.0/16")]
    [InlineData("192.0.2.7")]
    [InlineData("2001:db8:1::/48")]
    public void Proxy_pools_and_single_proxies_are_accepted(string network)
    {
        Assert.Null(TrustedProxy.RefuseNetwork(IpNetwork.Parse(network)));
    }
}
