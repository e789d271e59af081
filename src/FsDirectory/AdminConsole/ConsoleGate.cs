using System.Diagnostics;
using System.Globalization;
using FsDirectory.Admin;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;

namespace FsDirectory.AdminConsole;

/// <summary>
/// First middleware of the console branch: 404 for every console path while the admin API is off (no keys)
/// or the console is switched off (Console:Enabled=false),
/// and the security headers of every console response. The Server-Timing header gives the server time of
/// each response (what BENCHMARKS.md quotes for the 100k-rule list).
/// </summary>
public static class ConsoleGate
{
    // No inline script or style anywhere: scripts and styles come from /console/assets only.
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.RequestServices.GetRequiredService<AdminAccess>().Enabled
            || !context.RequestServices.GetRequiredService<IOptionsMonitor<ConsoleOptions>>().CurrentValue.Enabled)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
        // Pages show customers' addresses and accounts: no cache keeps them. Assets override this.
        headers.CacheControl = "no-store";

        var started = Stopwatch.GetTimestamp();
        context.Response.OnStarting(static state =>
        {
            var (response, start) = ((HttpResponse, long))state;
            response.Headers["Server-Timing"] = string.Create(CultureInfo.InvariantCulture, $"app;dur={Stopwatch.GetElapsedTime(start).TotalMilliseconds:F1}");
            return Task.CompletedTask;
        }, (context.Response, started));
        return next(context);
    }

    /// <summary>A page for a bare 404 (another reseller's rule, a mistyped address) instead of the browser's own.</summary>
    public static Task StatusPageAsync(StatusCodeContext status)
    {
        var response = status.HttpContext.Response;
        if (response.StatusCode != StatusCodes.Status404NotFound)
        {
            return Task.CompletedTask;
        }

        response.ContentType = "text/html; charset=utf-8";
        return response.WriteAsync($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Not found · FsDirectory console</title><link rel="stylesheet" href="{ConsoleAssets.Url("console.css")}"></head>
            <body><main><h1>Not found</h1><p>This page does not exist, or it is not yours to see.</p>
            <p><a href="{ConsoleComposition.PathPrefix}/ip-settings">Back to the IP settings</a></p></main></body></html>
            """);
    }
}
