using System.Diagnostics;
using System.Globalization;
using FsDirectory.Admin;

namespace FsDirectory.AdminConsole;

/// <summary>
/// First middleware of the console branch: 404 for every console path while the admin API is off (no keys),
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
        if (!context.RequestServices.GetRequiredService<AdminAccess>().Enabled)
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
}
