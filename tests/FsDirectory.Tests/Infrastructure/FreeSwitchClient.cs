using System.Net;
using System.Xml.Linq;

namespace FsDirectory.Tests.Infrastructure;

/// <summary>Posts to /freeswitch the way mod_xml_curl does, for an in-process server or a separate process alike.</summary>
public static class FreeSwitchClient
{
    public static async Task<HttpResponseMessage> PostFormAsync(this HttpClient client, FreeSwitchForm form)
    {
        using var request = Request(form);
        return await client.SendAsync(request);
    }

    /// <summary>The POST mod_xml_curl sends, with its User-Agent.</summary>
    public static HttpRequestMessage Request(FreeSwitchForm form)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/freeswitch") { Content = form.ToContent() };
        request.Headers.UserAgent.ParseAdd("freeswitch-xml/1.0");
        return request;
    }

    /// <summary>Posts a form, checks the FreeSWITCH contract (200, text/xml, declaration alone on its line) and parses the reply.</summary>
    public static async Task<XDocument> FetchAsync(this HttpClient client, FreeSwitchForm form)
    {
        using var response = await client.PostFormAsync(form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/xml", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        FreeSwitchXml.AssertSurvivesPreprocessor(text);
        return XDocument.Parse(text);
    }
}
