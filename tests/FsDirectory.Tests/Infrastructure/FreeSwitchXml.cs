using System.Xml.Linq;

namespace FsDirectory.Tests.Infrastructure;

/// <summary>Assertions about what FreeSWITCH will make of a reply.</summary>
public static class FreeSwitchXml
{
    /// <summary>
    /// FreeSWITCH drops lines containing "&lt;?" and expands "$${" before parsing: the document must
    /// survive that untouched.
    /// </summary>
    public static void AssertSurvivesPreprocessor(string text)
    {
        var lines = text.Split('\n');
        Assert.StartsWith("<?xml", lines[0]);
        Assert.DoesNotContain("<document", lines[0]);
        foreach (var line in lines.Skip(1))
        {
            Assert.DoesNotContain("<?", line);
            Assert.DoesNotContain("X-PRE-PROCESS", line, StringComparison.OrdinalIgnoreCase);
        }

        var body = string.Join('\n', lines.Where(l => !l.Contains("<?", StringComparison.Ordinal)));
        XDocument.Parse(body);
    }

    /// <summary>
    /// acl.conf's lists and the CIDRs each allows, in document order, as FreeSWITCH reads them: a node's
    /// <c>cidr</c> may hold several, comma-separated (switch_utils.c splits it into one node each).
    /// </summary>
    public static Dictionary<string, string[]> AclLists(XDocument document) =>
        document.Descendants("list").ToDictionary(
            static l => l.Attribute("name")!.Value,
            static l => l.Elements("node").SelectMany(static n => n.Attribute("cidr")!.Value.Split(',')).ToArray());

    public static bool IsNotFound(XDocument document) =>
        document.Root?.Element("section")?.Attribute("name")?.Value == "result"
        && document.Root.Element("section")?.Element("result")?.Attribute("status")?.Value == "not found";

    public static IReadOnlyList<(string Application, string Data)> Actions(XDocument document) =>
        document.Descendants("action")
            .Select(a => (a.Attribute("application")!.Value, a.Attribute("data")?.Value ?? string.Empty))
            .ToList();

    public static string? Param(XDocument document, string name) =>
        document.Descendants("param").FirstOrDefault(p => p.Attribute("name")?.Value == name)?.Attribute("value")?.Value;

    public static string? Variable(XDocument document, string name) =>
        document.Descendants("variable").FirstOrDefault(p => p.Attribute("name")?.Value == name)?.Attribute("value")?.Value;
}
