using System.Text.RegularExpressions;
using System.Xml.Linq;
using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;
using static FsDirectory.Tests.Limits.LimitsFixture;

namespace FsDirectory.Tests.Limits;

/// <summary>
/// Devices: the directory answer carries the account's limits as user variables, and the shipped
/// static extension (freeswitch-conf/dialplan/fsdir_limits.xml) applies them as the dialplan answer does.
/// </summary>
public sealed partial class DeviceLimitsTests(LimitsFixture fixture) : IClassFixture<LimitsFixture>
{
    private static readonly string Extension = Path.Combine(Paths.Root, "freeswitch-conf", "dialplan", "fsdir_limits.xml");

    [Fact]
    public async Task A_device_of_a_limited_account_gets_its_own_and_its_resellers_limits_as_variables()
    {
        var document = await fixture.Server.FetchAsync(Register("4301"));

        Assert.Equal("true", Variable(document, "fsdir_limits"));
        Assert.Equal("hash", Variable(document, "fsdir_limit_backend"));
        Assert.Equal("SWITCH_CONGESTION", Variable(document, "fsdir_limit_cause"));
        Assert.Equal("3", Variable(document, "fsdir_limit_channels"));
        Assert.Equal("2", Variable(document, "fsdir_limit_cps"));
        Assert.Equal("50", Variable(document, "fsdir_limit_reseller_id"));
        Assert.Equal("100", Variable(document, "fsdir_limit_reseller_channels"));
        Assert.Equal("20", Variable(document, "fsdir_limit_reseller_cps"));

        // The device's own dir_vars cannot raise its limit: fsdir_ names are the service's.
        Assert.Single(document.Descendants("variable"), v => v.Attribute("name")!.Value == "fsdir_limit_channels");
    }

    [Fact]
    public async Task A_device_of_an_account_without_limits_gets_no_limit_variables()
    {
        var document = await fixture.Server.FetchAsync(Register("4001"));

        Assert.DoesNotContain(document.Descendants("variable"), v => v.Attribute("name")!.Value.StartsWith("fsdir_limit", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_limits_disabled_no_device_gets_limit_variables()
    {
        await using var server = await FsDirectoryServer.StartAsync(fixture.Database.ConnectionString);

        var document = await server.FetchAsync(Register("4301"));

        Assert.DoesNotContain(document.Descendants("variable"), v => v.Attribute("name")!.Value.StartsWith("fsdir_limit", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"\$\{(?<name>[a-z_]+)\}")]
    private static partial Regex Expansion();

    [Fact]
    public void The_static_extension_sets_limit_ignore_transfer_first_then_one_limit_per_variable_like_the_answer()
    {
        var text = File.ReadAllText(Extension);
        Assert.DoesNotContain("<?", text, StringComparison.Ordinal);
        Assert.DoesNotContain("$${", text, StringComparison.Ordinal);
        var extension = XDocument.Parse(text).Root!.Elements("extension").Single();
        Assert.Equal("true", extension.Attribute("continue")?.Value);
        var conditions = extension.Elements("condition").ToList();

        // Each condition stands alone: one that does not apply must not stop the others.
        Assert.All(conditions, c => Assert.Equal("never", c.Attribute("break")?.Value));
        Assert.Equal(
            [
                ("${fsdir_limits}", "set", "limit_ignore_transfer=true"),
                ("${fsdir_limit_channels}", "limit", "${fsdir_limit_backend} fsdir_channels account_${fsdir_account_id} ${fsdir_limit_channels} !${fsdir_limit_cause}"),
                ("${fsdir_limit_cps}", "limit", "hash fsdir_cps account_${fsdir_account_id} ${fsdir_limit_cps}/1 !${fsdir_limit_cause}"),
                ("${fsdir_limit_reseller_channels}", "limit", "${fsdir_limit_backend} fsdir_channels account_${fsdir_limit_reseller_id} ${fsdir_limit_reseller_channels} !${fsdir_limit_cause}"),
                ("${fsdir_limit_reseller_cps}", "limit", "hash fsdir_cps account_${fsdir_limit_reseller_id} ${fsdir_limit_reseller_cps}/1 !${fsdir_limit_cause}"),
            ],
            conditions.Select(c => (c.Attribute("field")!.Value, c.Element("action")!.Attribute("application")!.Value, c.Element("action")!.Attribute("data")!.Value)));
        Assert.All(conditions, c => Assert.Single(c.Elements("action")));
    }

    [Fact]
    public async Task The_static_extension_expands_to_the_same_limits_as_the_dialplan_answer_for_the_same_account()
    {
        // The device variables of account 43 substituted into the extension, as FreeSWITCH expands them.
        var variables = (await fixture.Server.FetchAsync(Register("4301"))).Descendants("variable")
            .GroupBy(v => v.Attribute("name")!.Value).ToDictionary(g => g.Key, g => g.Last().Attribute("value")!.Value);
        var extension = XDocument.Load(Extension).Root!.Element("extension")!;
        var applied = extension.Elements("condition")
            .Where(c => Regex.IsMatch(Expansion().Replace(c.Attribute("field")!.Value, m => variables.GetValueOrDefault(m.Groups["name"].Value, string.Empty)), c.Attribute("expression")!.Value))
            .Select(c => c.Element("action")!)
            .Select(a => (a.Attribute("application")!.Value, Expansion().Replace(a.Attribute("data")!.Value, m => variables[m.Groups["name"].Value])))
            .ToList();

        var answer = Actions(await fixture.Server.FetchAsync(Call(Both)));
        Assert.Equal(answer.SkipWhile(a => a != ("set", "limit_ignore_transfer=true")).TakeWhile(a => a.Application != "transfer"), applied);
    }
}
