using System.Collections.Frozen;
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
    /// <summary>The header a trusted SIP proxy names the caller in (see <c>apply-proxy-acl</c>); caller-controlled otherwise.</summary>
    internal const string XAuthIpField = "variable_sip_h_X-AUTH-IP";

    /// <summary>How much of a body declared too large is read to tell what it is: a dialplan fetch's context and profile come in its first few kilobytes.</summary>
    private const int HeadBytes = 64 * 1024;

    internal static readonly string[] ReadFields =
    [
        "hostname", "section", "key_value", "action", "purpose", "user", "domain", "profile", "ip",
        "Caller-Context", "Hunt-Context", "Caller-Destination-Number", "Hunt-Destination-Number",
        "Hunt-Network-Addr", "Caller-Network-Addr", "variable_sofia_profile_name", "variable_fsdir_auth",
        XAuthIpField,
    ];

    // A dialplan post has hundreds of fields: one hash probe each instead of a scan of the names.
    private static readonly FrozenSet<string> ReadFieldSet = ReadFields.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

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

    /// <summary><c>X-AUTH-IP</c> as the call carried it; null when the call has no such header (empty is a header with no value).</summary>
    public string? XAuthIp => _fields.GetValueOrDefault(XAuthIpField);

    /// <summary>How many copies of <c>X-AUTH-IP</c> the call carried (more than one is a list, and refused from a trusted proxy).</summary>
    public int XAuthIpCopies { get; private init; }

    public static FreeSwitchRequest FromFields(IEnumerable<KeyValuePair<string, StringValues>> fields)
    {
        var kept = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var xAuthIpCopies = 0;
        foreach (var (key, values) in fields)
        {
            var isXAuthIp = ReadFieldSet.Contains(key) ? string.Equals(key, XAuthIpField, StringComparison.OrdinalIgnoreCase) : IsXAuthIpCopy(key);
            if (!isXAuthIp && !ReadFieldSet.Contains(key))
            {
                continue;
            }

            // The caller can send X-AUTH-IP more than once. Sofia never repeats a channel variable: the
            // second copy arrives as variable_sip_h_X-AUTH-IP-1, the third as -2, in the letter case the
            // proxy sent. SIP reads repeated header fields as one comma-separated list (RFC 3261 7.3.1),
            // and so do we, so that a list, never an address, reaches the decision: a trusted proxy that
            // appends its header without removing the caller's gets its call refused, not billed to
            // whichever address the caller put first.
            if (isXAuthIp)
            {
                xAuthIpCopies += values.Count;
                var value = values.Count == 1 ? values[0] ?? string.Empty : string.Join(',', values.Select(static v => v ?? string.Empty));
                kept[XAuthIpField] = kept.TryGetValue(XAuthIpField, out var earlier) ? earlier + "," + value : value;
                continue;
            }

            // FreeSWITCH never repeats a field; a repeated one we act on is refused rather than guessed.
            if (values.Count != 1 || kept.ContainsKey(key))
            {
                return new FreeSwitchRequest(kept, null, $"field '{key}' appears more than once");
            }

            kept[key] = values[0] ?? string.Empty;
        }

        return new FreeSwitchRequest(kept, null, null) { XAuthIpCopies = xAuthIpCopies };
    }

    /// <summary>Sofia's name for a repeated <c>X-AUTH-IP</c>: the field's name, '-' and a number (sofia.c's unknown-header loop).</summary>
    private static bool IsXAuthIpCopy(string key)
    {
        if (key.Length < XAuthIpField.Length + 2 || key[XAuthIpField.Length] != '-'
            || !key.StartsWith(XAuthIpField, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return key.AsSpan(XAuthIpField.Length + 1).IndexOfAnyExceptInRange('0', '9') < 0;
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

        var declaredTooLarge = request.ContentLength > options.MaxRequestBytes;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            // A body declared too large is still read, its first HeadBytes only, bounded below.
            size.MaxRequestBodySize = declaredTooLarge ? null : options.MaxRequestBytes;
        }

        if (declaredTooLarge)
        {
            // Refused all the same, but its first fields say whether it is a dialplan fetch, and for which
            // context and profile (they come in the first few kilobytes, before the channel variables):
            // FreeSwitchEndpoint answers such a call on a dialplan-mode profile with the dialplan's 403.
            var head = new byte[HeadBytes];
            var read = await request.Body.ReadAtLeastAsync(head, HeadBytes, throwOnEndOfStream: false, context.RequestAborted);
            var fields = new Dictionary<string, StringValues>(StringComparer.OrdinalIgnoreCase);
            using var headReader = new FormReader(new MemoryStream(head, 0, read), Encoding.UTF8) { KeyLengthLimit = 1024, ValueLengthLimit = HeadBytes };
            try
            {
                while (await headReader.ReadNextPairAsync(context.RequestAborted) is { } pair)
                {
                    Keep(fields, pair);
                }
            }
            catch (InvalidDataException)
            {
                // A key longer than the limit: what was read before it is kept.
            }

            return FromFields(fields).Refused(StatusCodes.Status413PayloadTooLarge, "request body too large");
        }

        // Read pair by pair, keeping only the fields we act on, so that a refused request still says what
        // it was: the caller controls how many SIP headers (and so form fields) a dialplan fetch carries,
        // and on a profile in dialplan mode a refusal must not become a way past the gatekeeper
        // (FreeSwitchEndpoint answers those with the dialplan's 403, not a status the switch falls back on).
        var kept = new Dictionary<string, StringValues>(StringComparer.OrdinalIgnoreCase);
        try
        {
            using var reader = new FormReader(request.Body, Encoding.UTF8)
            {
                KeyLengthLimit = 1024,
                ValueLengthLimit = options.MaxRequestBytes,
            };
            var count = 0;
            while (await reader.ReadNextPairAsync(context.RequestAborted) is { } pair)
            {
                if (++count > options.MaxFields)
                {
                    return FromFields(kept).Refused(StatusCodes.Status413PayloadTooLarge, $"more than {options.MaxFields} form fields");
                }

                Keep(kept, pair);
            }

            return FromFields(kept);
        }
        catch (BadHttpRequestException ex)
        {
            return FromFields(kept).Refused(ex.StatusCode, ex.Message);
        }
        catch (InvalidDataException ex)
        {
            return FromFields(kept).Refused(StatusCodes.Status413PayloadTooLarge, ex.Message);
        }
    }

    private static FreeSwitchRequest Fail(int status, string message) => new([], status, message);

    /// <summary>Keeps a pair when it is a field we act on (a repeated one as several values, for <see cref="FromFields"/> to judge).</summary>
    private static void Keep(Dictionary<string, StringValues> kept, KeyValuePair<string, string> pair)
    {
        // Sofia's renamed copies of X-AUTH-IP (-1, -2, ...) are kept too: FromFields joins them into the list that is refused.
        if (ReadFieldSet.Contains(pair.Key) || IsXAuthIpCopy(pair.Key))
        {
            kept[pair.Key] = StringValues.Concat(kept.GetValueOrDefault(pair.Key), pair.Value);
        }
    }

    /// <summary>The same fields, refused with <paramref name="status"/>.</summary>
    private FreeSwitchRequest Refused(int status, string message) => new(_fields, status, message);

    private string Get(string name) => _fields.TryGetValue(name, out var value) ? value : string.Empty;

    private string First(string name, string fallback) => Get(name) is { Length: > 0 } value ? value : Get(fallback);
}
