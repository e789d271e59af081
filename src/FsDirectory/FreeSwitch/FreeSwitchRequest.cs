using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace FsDirectory.FreeSwitch;

/// <summary>
/// One mod_xml_curl fetch, bound once from the form post (or the query string when the binding's
/// method is not post). Only the fields the service reads are kept; handlers never see raw forms.
/// Binding this way, rather than with [FromForm], also keeps antiforgery out of the pipeline.
/// </summary>
public sealed class FreeSwitchRequest
{
    internal static readonly string[] ReadFields =
    [
        "hostname", "section", "key_value", "action", "purpose", "user", "domain", "profile", "ip",
        "Caller-Context", "Hunt-Context", "Caller-Destination-Number", "Hunt-Destination-Number",
        "Hunt-Network-Addr", "Caller-Network-Addr", "variable_sofia_profile_name", "variable_fsdir_auth",
    ];

    private readonly Dictionary<string, string> _fields;

    private FreeSwitchRequest(Dictionary<string, string> fields, int? failureStatus, string? failure)
    {
        _fields = fields;
        FailureStatus = failureStatus;
        Failure = failure;
    }

    /// <summary>Set when the request could not be read (too large, too many fields, a duplicated field).</summary>
    public int? FailureStatus { get; }
    public string? Failure { get; }

    public string Hostname => Get("hostname");
    public string Section => Get("section");
    public string KeyValue => Get("key_value");
    public string Action => Get("action");
    public string Purpose => Get("purpose");
    public string User => Get("user");

    /// <summary>The SIP domain; <c>key_value</c> is the realm the client chose, so only a fallback.</summary>
    public string Domain => Get("domain") is { Length: > 0 } domain ? domain : KeyValue;
    public string Profile => Get("profile");
    public string SourceIp => Get("ip");
    public string Context => First("Caller-Context", "Hunt-Context");
    public string DestinationNumber => First("Caller-Destination-Number", "Hunt-Destination-Number");
    public string NetworkAddress => First("Hunt-Network-Addr", "Caller-Network-Addr");
    public string SofiaProfile => Get("variable_sofia_profile_name");
    public string FsdirAuth => Get("variable_fsdir_auth");

    public static FreeSwitchRequest FromFields(IEnumerable<KeyValuePair<string, StringValues>> fields)
    {
        var kept = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, values) in fields)
        {
            if (!ReadFields.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            // FreeSWITCH never repeats a field; a repeated one we act on is refused rather than guessed.
            if (values.Count != 1 || kept.ContainsKey(key))
            {
                return new FreeSwitchRequest(kept, null, $"field '{key}' appears more than once");
            }

            kept[key] = values[0] ?? string.Empty;
        }

        return new FreeSwitchRequest(kept, null, null);
    }

    public static async ValueTask<FreeSwitchRequest> BindAsync(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<IOptionsMonitor<FreeSwitchOptions>>().CurrentValue;
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            return request.Query.Count > options.MaxFields
                ? Fail(StatusCodes.Status400BadRequest, "too many fields")
                : FromFields(request.Query);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = options.MaxRequestBytes;
        }

        if (request.ContentLength > options.MaxRequestBytes)
        {
            return Fail(StatusCodes.Status413PayloadTooLarge, "request body too large");
        }

        try
        {
            using var reader = new FormReader(request.Body, Encoding.UTF8)
            {
                ValueCountLimit = options.MaxFields,
                KeyLengthLimit = 1024,
                ValueLengthLimit = options.MaxRequestBytes,
            };
            var form = await reader.ReadFormAsync(context.RequestAborted);
            return FromFields(form);
        }
        catch (BadHttpRequestException ex)
        {
            return Fail(ex.StatusCode, ex.Message);
        }
        catch (InvalidDataException ex)
        {
            return Fail(StatusCodes.Status413PayloadTooLarge, ex.Message);
        }
    }

    private static FreeSwitchRequest Fail(int status, string message) => new([], status, message);

    private string Get(string name) => _fields.TryGetValue(name, out var value) ? value : string.Empty;

    private string First(string name, string fallback) => Get(name) is { Length: > 0 } value ? value : Get(fallback);
}
