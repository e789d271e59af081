namespace FsDirectory.Xml;

/// <summary>A complete FreeSWITCH XML reply, sent as <c>text/xml</c> in one write with a known length.</summary>
public sealed class XmlAnswer : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public static readonly XmlAnswer NotFound = new(BuildNotFound(), "not found");

    public XmlAnswer(ReadOnlyMemory<byte> body, string outcome)
    {
        Body = body;
        Outcome = outcome;
    }

    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>For metrics and logs: answered, not found, rejected.</summary>
    public string Outcome { get; }

    public bool IsNotFound => ReferenceEquals(this, NotFound);

    public int? StatusCode => StatusCodes.Status200OK;

    public string ContentType => "text/xml";

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.ContentLength = Body.Length;
        return response.Body.WriteAsync(Body, httpContext.RequestAborted).AsTask();
    }

    public override string ToString() => System.Text.Encoding.UTF8.GetString(Body.Span);

    private static ReadOnlyMemory<byte> BuildNotFound()
    {
        var xml = new FsXmlWriter(256).StartDocument("result");
        xml.Start("result").Attr("status", "not found").Close();
        return xml.EndDocument().ToArray();
    }
}
