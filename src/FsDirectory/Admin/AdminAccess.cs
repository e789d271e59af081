using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace FsDirectory.Admin;

/// <summary>
/// Who is calling the admin API: the key's name and, for a reseller key, the reseller it is bound to; for the audit
/// trail also the client's address (<see cref="From"/>) and whether the call came through the API or the console.
/// </summary>
public sealed record AdminCaller(string Name, int? ResellerId)
{
    public const string ViaApi = "api";
    public const string ViaConsole = "console";

    /// <summary>
    /// The client's address as the connection sees it after the forwarded-headers middleware: the X-Forwarded-For
    /// client when the request came from a ForwardedHeaders:KnownProxies address, the peer itself otherwise.
    /// </summary>
    public string? From { get; init; }

    /// <summary><see cref="ViaApi"/> (JSON API, and so fsdir) or <see cref="ViaConsole"/>.</summary>
    public string Via { get; init; } = ViaApi;

    /// <summary>No valid key: scoped to a reseller id no account has, so it sees nothing even if a filter were missing.</summary>
    public static readonly AdminCaller Unauthenticated = new("(none)", -1);

    /// <summary>
    /// Parameters are bound before endpoint filters run, so the key is looked up here as well;
    /// <see cref="AdminAccess.RequireKey"/> is what refuses the request.
    /// </summary>
    public static ValueTask<AdminCaller?> BindAsync(HttpContext context)
    {
        var key = context.RequestServices.GetRequiredService<AdminAccess>().Find(AdminAccess.PresentedKey(context.Request));
        return ValueTask.FromResult<AdminCaller?>(key is null ? Unauthenticated : new AdminCaller(key.Name, key.ResellerId) { From = AddressOf(context) });
    }

    /// <summary>The client address to record: an IPv4 client on a dual-stack listener is shown as IPv4.</summary>
    public static string? AddressOf(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address
            ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString()
            : null;

    /// <summary>
    /// The one visibility rule: a reseller key sees what belongs to accounts of its reseller
    /// (<c>accounts.reseller_id</c>); an operator key sees everything. <see cref="IpSettingsStore.Visible"/> is the
    /// same rule in SQL, and the snapshot's <see cref="IpAuth.IpRule.ResellerId"/> is that column too.
    /// </summary>
    public bool CanSee(int? accountResellerId) => ResellerId is not { } reseller || (accountResellerId ?? 0) == reseller;

    public bool CanSee(IpAuth.IpRule rule) => CanSee(rule.ResellerId);

    public bool IsOperator => ResellerId is null;
}

/// <summary>API-key check for the admin endpoints. Keys are compared as SHA-256 digests in constant time and never logged.</summary>
public sealed partial class AdminAccess(IOptionsMonitor<AdminOptions> options, ILogger<AdminAccess> logger)
{
    public const string HeaderName = "X-Api-Key";

    public bool Enabled => options.CurrentValue.AllKeys.Count > 0;

    /// <summary>The configured key matching <paramref name="presented"/>, or null. Every key is compared, so timing does not tell which one nearly matched.</summary>
    public AdminApiKey? Find(string? presented)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return null;
        }

        Span<byte> given = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), given);
        return FindByDigest(given);
    }

    /// <summary>SHA-256 of a key: what a console session holds instead of the key itself.</summary>
    public static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The configured key whose SHA-256 digest is <paramref name="given"/>, compared in constant time against every key.</summary>
    public AdminApiKey? FindByDigest(ReadOnlySpan<byte> given)
    {
        if (given.Length != SHA256.HashSizeInBytes)
        {
            return null;
        }

        Span<byte> known = stackalloc byte[SHA256.HashSizeInBytes];
        AdminApiKey? match = null;
        foreach (var key in options.CurrentValue.AllKeys)
        {
            SHA256.HashData(Encoding.UTF8.GetBytes(key.Key), known);
            if (CryptographicOperations.FixedTimeEquals(given, known))
            {
                match ??= key;
            }
        }

        return match;
    }

    /// <summary>Filter for the admin group: 404 while the API is off, 401 without a valid key.</summary>
    public static ValueTask<object?> RequireKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        Require(context, next, operatorOnly: false);

    /// <summary>
    /// Filter for operator-level settings (trusted proxies): as <see cref="RequireKey"/>, and 403 for a key
    /// bound to a reseller. A proxy vouches for every caller of every reseller, so only the operator may list one.
    /// </summary>
    public static ValueTask<object?> RequireOperatorKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        Require(context, next, operatorOnly: true);

    private static ValueTask<object?> Require(EndpointFilterInvocationContext context, EndpointFilterDelegate next, bool operatorOnly)
    {
        var access = context.HttpContext.RequestServices.GetRequiredService<AdminAccess>();
        if (!access.Enabled)
        {
            return ValueTask.FromResult<object?>(TypedResults.NotFound());
        }

        if (access.Authenticate(context.HttpContext, out var failure) is not { } key)
        {
            return ValueTask.FromResult<object?>(failure);
        }

        if (operatorOnly && key.ResellerId is not null)
        {
            access.LogRejected(context.HttpContext.Connection.RemoteIpAddress?.ToString() ?? "?", $"key '{key.Name}' is bound to a reseller and this is an operator setting");
            return ValueTask.FromResult<object?>(TypedResults.Problem(
                "This is an operator setting: API keys bound to a reseller (ResellerId) cannot read or change it.",
                statusCode: StatusCodes.Status403Forbidden,
                title: "Forbidden"));
        }

        return next(context);
    }

    /// <summary>Filter for the explain endpoint: the API key when keys are configured, otherwise loopback clients only.</summary>
    public static ValueTask<object?> RequireKeyOrLoopback(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var access = context.HttpContext.RequestServices.GetRequiredService<AdminAccess>();
        if (access.Enabled)
        {
            return access.Authenticate(context.HttpContext, out var failure) is null
                ? ValueTask.FromResult<object?>(failure)
                : next(context);
        }

        var remote = context.HttpContext.Connection.RemoteIpAddress;
        return remote is not null && IPAddress.IsLoopback(remote)
            ? next(context)
            : ValueTask.FromResult<object?>(TypedResults.Problem("Only loopback clients may use this endpoint while no admin API key is configured.", statusCode: StatusCodes.Status403Forbidden));
    }

    /// <returns>The caller's key, or null with the 401 to answer in <paramref name="failure"/>.</returns>
    private AdminApiKey? Authenticate(HttpContext http, out ProblemHttpResult? failure)
    {
        var presented = PresentedKey(http.Request);
        var key = Find(presented);
        failure = null;
        if (key is null)
        {
            LogRejected(http.Connection.RemoteIpAddress?.ToString() ?? "?", presented is null ? "no API key" : "unknown API key");
            http.Response.Headers.WWWAuthenticate = "Bearer";
            failure = TypedResults.Problem(
                presented is null ? $"Send an API key in the {HeaderName} header (or Authorization: Bearer)." : "The API key is not valid.",
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Unauthorized");
        }

        return key;
    }

    internal static string? PresentedKey(HttpRequest request)
    {
        if (request.Headers.TryGetValue(HeaderName, out var header) && header.Count == 1 && !string.IsNullOrEmpty(header[0]))
        {
            return header[0];
        }

        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization.Length > 7
            ? authorization[7..].Trim()
            : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Admin API: request from {Remote} refused: {Reason}")]
    private partial void LogRejected(string remote, string reason);
}
