using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.FreeSwitch;

/// <summary>The files in freeswitch-conf/ as FreeSWITCH and HAProxy read them, and how their numbers fit together.</summary>
public sealed partial class ShippedSwitchConfigurationTests
{
    private static readonly string[] AnyNumber = ["", "12066418000", "12345678*12066418000", "+12066418000", "4321#1", "${evil}"];
    private static readonly string[] RefusingApplications = ["log", "respond"];

    private static string Shipped(string relative) => Path.Combine(Paths.Root, "freeswitch-conf", relative);

    [Fact]
    public void The_static_dialplan_of_the_ip_authenticated_context_refuses_every_call()
    {
        var dialplan = XDocument.Load(Shipped("dialplan/public.xml"));
        var profile = XDocument.Load(Shipped("sip_profiles/trunks.xml"));
        var profileContext = profile.Descendants("param").Single(static p => p.Attribute("name")?.Value == "context").Attribute("value")!.Value;

        var context = Assert.Single(dialplan.Root!.Elements("context"));
        Assert.Equal(profileContext, context.Attribute("name")?.Value);
        var condition = Assert.Single(context.Elements("extension").Elements("condition"));
        Assert.Equal("destination_number", condition.Attribute("field")?.Value);
        var expression = new Regex(condition.Attribute("expression")!.Value, RegexOptions.None, TimeSpan.FromSeconds(1));
        Assert.All(AnyNumber, n => Assert.Matches(expression, n));

        var actions = condition.Elements("action").Select(static a => (Application: a.Attribute("application")!.Value, Data: a.Attribute("data")?.Value ?? "")).ToList();
        Assert.Equal(("respond", "403 Forbidden"), actions[^1]);
        Assert.All(actions, static a => Assert.Contains(a.Application, RefusingApplications));
        // Action data is expanded when it runs: nothing the caller wrote may be in it.
        Assert.All(actions.SelectMany(static a => Variable().Matches(a.Data)), static m => Assert.Equal("sip_network_ip", m.Groups[1].Value));
        Assert.Empty(condition.ElementsAfterSelf());
    }

    [Theory]
    [InlineData("autoload_configs/xml_curl.conf.xml")]
    [InlineData("https/xml_curl.conf.xml")]
    [InlineData("haproxy/xml_curl.conf.xml")]
    public void Every_shipped_xml_curl_conf_has_one_binding_since_a_hung_instance_behind_any_of_several_costs_every_call(string file)
    {
        var bindings = XDocument.Load(Shipped(file)).Descendants("binding").ToList();

        var binding = Assert.Single(bindings);
        Assert.Equal("directory|configuration|dialplan", Param(binding, "gateway-url").Attribute("bindings")?.Value);
    }

    [Fact]
    public void The_load_balancer_binding_points_at_the_shipped_listener_and_waits_longer_than_every_retry()
    {
        var binding = XDocument.Load(Shipped("haproxy/xml_curl.conf.xml")).Descendants("binding").Single();
        var config = File.ReadAllText(Shipped("haproxy/fsdirectory.cfg"));
        var bind = Bind().Match(config);
        Assert.True(bind.Success, "bind \"${FSDIR_LB_BIND-address:port}\" in fsdirectory.cfg");

        Assert.Equal($"http://{bind.Groups[1].Value}/freeswitch", Param(binding, "gateway-url").Attribute("value")?.Value);
        var bindingTimeout = TimeSpan.FromSeconds(int.Parse(Param(binding, "timeout").Attribute("value")!.Value, CultureInfo.InvariantCulture));
        var sections = Sections(config);
        var defaults = sections["defaults fsdirectory"];
        foreach (var backend in new[] { "backend fsdirectory", "backend fsdirectory-configuration" })
        {
            // Each try may spend a connect and a server timeout; all of them must end before the switch gives up.
            var tries = 1 + int.Parse(Setting(sections[backend], defaults, "retries"), CultureInfo.InvariantCulture);
            var perTry = Milliseconds(Setting(sections[backend], defaults, "timeout connect")) + Milliseconds(Setting(sections[backend], defaults, "timeout server"));
            Assert.True(tries * perTry < bindingTimeout, $"{backend}: {tries} tries of {perTry.TotalMilliseconds} ms against the binding's {bindingTimeout.TotalSeconds} s");
            Assert.True(tries >= 2, $"{backend} retries on another instance");
        }
    }

    private static XElement Param(XElement binding, string name) =>
        binding.Elements("param").Single(p => p.Attribute("name")?.Value == name);

    /// <summary>HAProxy's sections ("defaults NAME", "backend NAME", ...) and their lines, comments dropped.</summary>
    private static Dictionary<string, List<string>> Sections(string config)
    {
        var sections = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        List<string>? current = null;
        foreach (var raw in config.Split('\n'))
        {
            var line = raw.Split('#')[0].TrimEnd();
            if (line.Length == 0)
            {
                continue;
            }

            if (!char.IsWhiteSpace(line[0]))
            {
                sections[line] = current = [];
            }
            else
            {
                current?.Add(line.Trim());
            }
        }

        return sections;
    }

    private static string Setting(List<string> section, List<string> defaults, string name) =>
        section.Concat(defaults).First(l => l.StartsWith(name + " ", StringComparison.Ordinal))[(name.Length + 1)..].Trim();

    private static TimeSpan Milliseconds(string value) => value.EndsWith("ms", StringComparison.Ordinal)
        ? TimeSpan.FromMilliseconds(int.Parse(value[..^2], CultureInfo.InvariantCulture))
        : TimeSpan.FromSeconds(int.Parse(value.TrimEnd('s'), CultureInfo.InvariantCulture));

    [GeneratedRegex(@"\$\{([^}]+)\}")]
    private static partial Regex Variable();

    [GeneratedRegex(@"bind ""\$\{FSDIR_LB_BIND-([0-9.]+:[0-9]+)\}""")]
    private static partial Regex Bind();
}
