using System.Xml.Linq;
using FsDirectory.Tests.Infrastructure;
using FsDirectory.Xml;

namespace FsDirectory.Tests.Xml;

public sealed class FsXmlWriterTests
{
    private static (string Text, string? Value) RoundTrip(string value, Dollar dollar = Dollar.Literal)
    {
        var xml = new FsXmlWriter().StartDocument("directory");
        xml.Start("param").Attr("name", "x").Attr("value", value, dollar).Close();
        var text = xml.EndDocument().ToString();
        FreeSwitchXml.AssertSurvivesPreprocessor(text);
        return (text, XDocument.Parse(text).Descendants("param").Single().Attribute("value")?.Value);
    }

    [Theory]
    [InlineData("plain 1001")]
    [InlineData("quotes \" and ' and <tags> & amps")]
    [InlineData("ünïcødé ☎ 𝄞")]
    [InlineData("")]
    public void Ordinary_values_round_trip_exactly(string value)
    {
        Assert.Equal(value, RoundTrip(value).Value);
    }

    [Fact]
    public void The_declaration_stands_alone_on_the_first_line()
    {
        var text = new FsXmlWriter().StartDocument("result").EndDocument().ToString();

        Assert.Equal("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>", text.Split('\n')[0]);
        Assert.StartsWith("<document type=\"freeswitch/xml\">", text.Split('\n')[1]);
    }

    [Fact]
    public void Dollar_signs_in_data_are_character_references_so_globals_never_expand()
    {
        var (text, value) = RoundTrip("$${local_ip_v4} ${system(id)}");

        Assert.DoesNotContain("$", text);
        Assert.Equal("$${local_ip_v4} ${system(id)}", value);
    }

    [Fact]
    public void Admin_settings_keep_dollar_signs_so_freeswitch_expands_its_globals()
    {
        var (text, _) = RoundTrip("$${local_ip_v4}", Dollar.FreeSwitchGlobal);

        Assert.Contains("value=\"$${local_ip_v4}\"", text);
    }

    [Fact]
    public void Line_breaks_in_data_never_start_a_new_line()
    {
        var (text, value) = RoundTrip("a\n<?xml x?>\r\nb\tc");

        Assert.Equal("a\n<?xml x?>\r\nb\tc", value);
        Assert.Single(text.Split('\n'), l => l.Contains("name=\"x\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("X-PRE-PROCESS cmd=\"exec\"")]
    [InlineData("x-pre-process")]
    public void Preprocessor_directives_in_data_are_defused(string value)
    {
        var (text, roundTripped) = RoundTrip(value);

        Assert.DoesNotContain("X-PRE-PROCESS", text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(value, roundTripped);
    }

    [Fact]
    public void Characters_xml_forbids_are_replaced_instead_of_failing()
    {
        var (_, value) = RoundTrip("a\0b\u0001c\u001Fd\uFFFEe\uD800f\uDC00g");

        Assert.Equal("a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\uFFFDg", value);
    }

    [Fact]
    public void Valid_surrogate_pairs_are_kept()
    {
        Assert.Equal("𝄞x", RoundTrip("𝄞x").Value);
    }

    [Fact]
    public void Not_found_is_the_document_freeswitch_expects()
    {
        var document = XDocument.Parse(XmlAnswer.NotFound.ToString());

        Assert.True(FreeSwitchXml.IsNotFound(document));
        Assert.Equal("freeswitch/xml", document.Root!.Attribute("type")!.Value);
    }

    [Fact]
    public void Numbers_and_networks_are_written_as_their_invariant_text()
    {
        var xml = new FsXmlWriter().StartDocument("configuration");
        xml.Start("node").Attr("cidr", FsDirectory.IpAuth.IpNetwork.Parse("2001:db8::/32")).Attr("count", -1234567L).Close();
        var node = XDocument.Parse(xml.EndDocument().ToString()).Descendants("node").Single();

        Assert.Equal("2001:db8::/32", node.Attribute("cidr")!.Value);
        Assert.Equal("-1234567", node.Attribute("count")!.Value);
    }
}
