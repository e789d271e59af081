using FsDirectory.FreeSwitch;
using FsDirectory.Xml;

namespace FsDirectory.Benchmarks.Host;

/// <summary>
/// What any mod_xml_curl backend must at least do: accept the connection, read and bind the same
/// form, and write a document. The fixed document is the size of a dialplan answer, so the
/// difference to /freeswitch is the data lookup and the XML building.
/// </summary>
public static class Ceiling
{
    private static readonly XmlAnswer Fixed = BuildFixed();

    public static IEndpointConventionBuilder MapCeiling(this IEndpointRouteBuilder app) =>
        app.MapPost("/ceiling", Handle).DisableAntiforgery().ExcludeFromDescription();

    public static IResult Handle(FreeSwitchRequest request) =>
        request.FailureStatus is int status ? Results.StatusCode(status) : Fixed;

    private static XmlAnswer BuildFixed()
    {
        var xml = new FsXmlWriter(2048).StartDocument("dialplan");
        xml.Start("context").Attr("name", "public").Open();
        xml.Start("extension").Attr("name", "fsdir_ip_auth").Open();
        xml.Start("condition").Open();
        foreach (var (name, value) in new[]
        {
            ("accountcode", "1000000001"), ("fsdir_auth", "ip"), ("fsdir_account_id", "1"), ("fsdir_reseller_id", "0"),
            ("fsdir_pricelist_id", "1"), ("fsdir_ip_rule_id", "1"), ("fsdir_ip_rule_name", "bench 1"),
            ("fsdir_tech_prefix", "12345678*"), ("fsdir_original_destination", "12345678*12066418000"),
        })
        {
            xml.Start("action").Attr("application", "set").Attr("data", $"{name}={value}").Close();
        }

        xml.Start("action").Attr("application", "transfer").Attr("data", "12066418000 XML default").Close();
        xml.End("condition").End("extension").End("context").EndDocument();
        return new XmlAnswer(xml.ToArray(), "ceiling");
    }
}
