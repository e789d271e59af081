using System.Net;
using System.Security.Cryptography;
using System.Text;
using FsDirectory.IpAuth;
using FsDirectory.Metrics;
using Microsoft.Extensions.Options;

namespace FsDirectory.FreeSwitch;

/// <summary>
/// Refuses fetches from outside the allowed networks (403), without an accepted client certificate when one is
/// required (403), or without the configured Basic credentials (401). Runs before the handler; only the address,
/// the certificate's subject and whether credentials were presented are logged, never what was presented.
/// </summary>
public sealed partial class FreeSwitchAccessFilter(
    IOptionsMonitor<FreeSwitchAccessOptions> options, IOptionsMonitor<FreeSwitchOptions> logging, TimeProvider time, FsDirectoryMetrics metrics,
    ILogger<FreeSwitchAccessFilter> logger) : IEndpointFilter
{
    private readonly LogThrottle _certificateLines = new(logging, time);
    private Policy? _policy;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var policy = CurrentPolicy();
        var http = context.HttpContext;
        var remote = http.Connection.RemoteIpAddress;
        if (policy.Networks.Length > 0 && !IsAllowed(policy.Networks, remote))
        {
            LogForbidden(remote?.ToString() ?? "unknown");
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }

        if (policy.Certificates is { } trust
            && trust.Refusal(http.Request.IsHttps ? await http.Connection.GetClientCertificateAsync(http.RequestAborted) : null) is { } refusal)
        {
            // A switch without its certificate retries every fetch: count each, log a few lines a second.
            metrics.ClientCertificateRefusals.WithLabels(refusal.Reason).Inc();
            if (_certificateLines.TryWrite(out var suppressed))
            {
                LogCertificateRefused(remote?.ToString() ?? "unknown", refusal.Detail, suppressed);
            }

            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }

        if (policy.ExpectedCredentialsHash is { } expected)
        {
            var presented = PresentedCredentials(http.Request.Headers.Authorization.ToString());
            if (presented is null || !Matches(expected, presented))
            {
                LogUnauthorized(remote?.ToString() ?? "unknown", presented is not null);
                http.Response.Headers.WWWAuthenticate = "Basic realm=\"fsdirectory\", charset=\"UTF-8\"";
                return Results.StatusCode(StatusCodes.Status401Unauthorized);
            }
        }

        return await next(context);
    }

    private Policy CurrentPolicy()
    {
        var current = options.CurrentValue;
        var policy = _policy;
        if (policy is not null && ReferenceEquals(policy.Source, current))
        {
            return policy;
        }

        var networks = current.AllowedNetworks
            .Select(n => IpNetwork.TryParse(n, out var parsed, out _) ? parsed : null)
            .OfType<IpNetwork>()
            .ToArray();
        var expected = current.RequiresCredentials ? Hash($"{current.Username}:{current.Password}") : null;
        policy = new Policy(current, networks, expected, ClientCertificateTrust.For(current));
        _policy = policy;
        return policy;
    }

    private static bool IsAllowed(IpNetwork[] networks, IPAddress? remote)
    {
        if (remote is null)
        {
            return false;
        }

        // Kestrel reports IPv4 clients of a dual-stack socket as ::ffff:a.b.c.d; IpAddressKey folds them to IPv4.
        if (!IpAddressKey.TryParse(remote.ToString(), out var address))
        {
            return false;
        }

        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The decoded <c>user:password</c> of a Basic header, or null when there is none or it is malformed.</summary>
    private static byte[]? PresentedCredentials(string header)
    {
        const string Scheme = "Basic ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || header.Length > 4096)
        {
            return null;
        }

        try
        {
            return Convert.FromBase64String(header[Scheme.Length..].Trim());
        }
        catch (FormatException)
        {
            return null;
        }
    }

    // Both sides are hashed first so the comparison time depends neither on where they differ nor on their lengths.
    private static byte[] Hash(string credentials) => SHA256.HashData(Encoding.UTF8.GetBytes(credentials));

    private static bool Matches(byte[] expectedHash, byte[] presented) =>
        CryptographicOperations.FixedTimeEquals(expectedHash, SHA256.HashData(presented));

    private sealed record Policy(FreeSwitchAccessOptions Source, IpNetwork[] Networks, byte[]? ExpectedCredentialsHash, ClientCertificateTrust? Certificates);

    [LoggerMessage(Level = LogLevel.Warning, Message = "FreeSWITCH fetch from {Remote} refused with 403: {Detail} ({Suppressed} similar lines left out before this one)")]
    private partial void LogCertificateRefused(string remote, string detail, long suppressed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "FreeSWITCH fetch from {Remote} refused with 403: address not in FreeSwitch:Access:AllowedNetworks")]
    private partial void LogForbidden(string remote);

    [LoggerMessage(Level = LogLevel.Warning, Message = "FreeSWITCH fetch from {Remote} refused with 401 (credentials presented: {Presented})")]
    private partial void LogUnauthorized(string remote, bool presented);
}
