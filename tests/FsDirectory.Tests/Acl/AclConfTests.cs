using FsDirectory.Tests.Dialplan;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Acl;

public sealed class AclConfTests(IpAuthenticationFixture fixture) : IClassFixture<IpAuthenticationFixture>
{
    private async Task<Dictionary<string, string[]>> ListsAsync()
    {
        var document = await fixture.Server.FetchAsync(FreeSwitchForm.Load("configuration-acl.conf"));
        Assert.Equal("acl.conf", document.Descendants("configuration").Single().Attribute("name")!.Value);
        return document.Descendants("list").ToDictionary(
            l => l.Attribute("name")!.Value,
            l =>
            {
                Assert.Equal("deny", l.Attribute("default")!.Value);
                Assert.All(l.Elements("node"), n => Assert.Equal("allow", n.Attribute("type")!.Value));
                return l.Elements("node").SelectMany(n => n.Attribute("cidr")!.Value.Split(',')).ToArray();
            });
    }

    [Fact]
    public async Task Each_active_profile_gets_a_list_with_exactly_its_usable_networks()
    {
        var lists = await ListsAsync();

        Assert.Equal(["default", "trunks"], lists.Keys.Order());
        Assert.Equal(
            [
                "192.0.2.10/32", "192.0.2.50/32", "192.0.2.200/30", "198.51.0.0/16", "203.0.113.10/32", "203.0.113.64/28",
                "2001:db8:100::/48", "2001:db8:200::7/128",
            ],
            lists["default"]);
        Assert.Equal(["127.0.0.2/32", "127.0.0.99/32"], lists["trunks"]);
    }

    [Fact]
    public async Task Acl_conf_is_served_from_the_real_capture_and_survives_the_preprocessor()
    {
        using var response = await fixture.Server.PostAsync(FreeSwitchForm.Load("configuration-acl.conf"));
        var text = await response.Content.ReadAsStringAsync();

        FreeSwitchXml.AssertSurvivesPreprocessor(text);
        Assert.All(text.Split('\n').Where(l => l.Contains("cidr=", StringComparison.Ordinal)), l => Assert.Contains("/", l));
    }
}

public sealed class StaticAclListsFixture : DemoServerFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Acl:Lists:0:Name"] = "esl",
        ["Acl:Lists:0:Nodes:0:Cidr"] = "127.0.0.1",
        ["Acl:Lists:1:Name"] = "default",
        ["Acl:Lists:1:Nodes:0:Cidr"] = "10.9.8.0/24",
        ["Acl:Lists:1:Nodes:0:Type"] = "deny",
    };
}

public sealed class StaticAclListsTests(StaticAclListsFixture fixture) : IClassFixture<StaticAclListsFixture>
{
    [Fact]
    public async Task Configured_static_lists_and_nodes_are_added()
    {
        var document = await fixture.Server.FetchAsync(FreeSwitchForm.Load("configuration-acl.conf"));
        var lists = document.Descendants("list").ToDictionary(l => l.Attribute("name")!.Value);

        Assert.Equal("127.0.0.1/32", lists["esl"].Element("node")!.Attribute("cidr")!.Value);
        var deny = lists["default"].Elements("node").Single(n => n.Attribute("type")!.Value == "deny");
        Assert.Equal("10.9.8.0/24", deny.Attribute("cidr")!.Value);
        Assert.Contains("198.51.100.0/24", FreeSwitchXml.AclLists(document)["default"]);
        // The static deny node comes after the list's packed allow nodes, as an element of its own.
        Assert.Same(deny, lists["default"].Elements("node").Last());
    }
}
