using System.Xml.Linq;
using FsDirectory.Tests.EventSocket;
using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Limits;

/// <summary>
/// hash.conf over the real service: three configured switches (their Event Sockets down; only the
/// configuration matters here), each fetching as the real acl.conf capture does, with its switchname.
/// </summary>
public sealed class HashConfTests : IAsyncLifetime
{
    private static readonly string[] Names = ["fs-a", "fs-b", "fs-c"];
    private readonly int[] _ports = [FakeFreeSwitch.ClosedPort(), FakeFreeSwitch.ClosedPort(), FakeFreeSwitch.ClosedPort()];
    private TestDatabase _database = null!;
    private FsDirectoryServer _server = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        var settings = new Dictionary<string, string?>(LimitsFixture.Enabled) { ["Limits:RemoteInterval"] = "00:00:00.250" };
        for (var i = 0; i < Names.Length; i++)
        {
            settings[$"EventSocket:Nodes:{i}:Address"] = $"127.0.0.1:{_ports[i]}";
            settings[$"EventSocket:Nodes:{i}:Password"] = $"pw-{Names[i]}$";
            settings[$"EventSocket:Nodes:{i}:SwitchName"] = Names[i];
        }

        _server = await FsDirectoryServer.StartAsync(_database.ConnectionString, settings);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _database.DisposeAsync();
    }

    private static FreeSwitchForm HashConf(string hostname) =>
        FreeSwitchForm.Load("configuration-acl.conf").WithRawValue("hostname", hostname).WithRawValue("key_value", "hash.conf");

    private static IReadOnlyList<XElement> Remotes(XDocument document)
    {
        var configuration = document.Descendants("configuration").Single();
        Assert.Equal("hash.conf", configuration.Attribute("name")!.Value);
        return [.. configuration.Element("remotes")!.Elements("remote")];
    }

    [Fact]
    public async Task Each_of_three_switches_gets_the_other_two_as_remotes_and_never_itself()
    {
        for (var i = 0; i < Names.Length; i++)
        {
            var response = await _server.Client.PostFormAsync(HashConf(Names[i]));
            var text = await response.Content.ReadAsStringAsync();
            AssertSurvivesPreprocessor(text);
            var remotes = Remotes(XDocument.Parse(text));

            var others = Enumerable.Range(0, Names.Length).Where(j => j != i).ToList();
            Assert.Equal(others.Select(j => Names[j]), remotes.Select(r => r.Attribute("name")!.Value));
            Assert.Equal(others.Select(j => _ports[j].ToString(System.Globalization.CultureInfo.InvariantCulture)), remotes.Select(r => r.Attribute("port")!.Value));
            Assert.All(remotes, r => Assert.Equal("127.0.0.1", r.Attribute("host")!.Value));
            Assert.All(remotes, r => Assert.Equal("250", r.Attribute("interval")!.Value));
            Assert.Equal(others.Select(j => $"pw-{Names[j]}$"), remotes.Select(r => r.Attribute("password")!.Value));
            Assert.DoesNotContain("$\"", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_switchname_is_matched_ignoring_case_as_host_names_are()
    {
        var remotes = Remotes(await _server.FetchAsync(HashConf("FS-B")));

        Assert.Equal(["fs-a", "fs-c"], remotes.Select(r => r.Attribute("name")!.Value));
    }

    [Fact]
    public async Task A_switch_no_node_is_named_after_gets_no_remotes_and_a_warning_in_the_log()
    {
        var remotes = Remotes(await _server.FetchAsync(HashConf("vm")));

        Assert.Empty(remotes);
        Assert.Contains("hash.conf fetched by switch 'vm'", _server.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_limits_disabled_hash_conf_is_not_found_and_the_switch_keeps_its_own()
    {
        await using var server = await FsDirectoryServer.StartAsync(_database.ConnectionString);

        Assert.True(IsNotFound(await server.FetchAsync(HashConf("fs-a"))));
    }
}
