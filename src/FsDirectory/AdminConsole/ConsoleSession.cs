using System.Security.Claims;
using FsDirectory.Admin;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace FsDirectory.AdminConsole;

/// <summary>
/// The console's session: a data-protected (encrypted and signed) cookie holding the key's name, reseller and
/// SHA-256 digest, never the key. Every request re-checks the digest against the configured keys, so removing
/// a key from Admin:ApiKeys ends its sessions, and a changed ResellerId applies at once.
/// </summary>
public static partial class ConsoleSession
{
    public const string Scheme = "FsDirectoryConsole";
    public const string Policy = "FsDirectoryConsole";
    public const string CookieName = "fsdir_console";

    private const string DigestClaim = "fsdir:key-digest";
    private const string ResellerClaim = "fsdir:reseller-id";

    public static void Configure(CookieAuthenticationOptions cookie, ConsoleOptions console)
    {
        cookie.Cookie.Name = CookieName;
        cookie.Cookie.Path = ConsoleComposition.PathPrefix;
        cookie.Cookie.HttpOnly = true;
        cookie.Cookie.SameSite = SameSiteMode.Strict;
        cookie.Cookie.SecurePolicy = SecurePolicy(console);
        cookie.LoginPath = ConsoleComposition.PathPrefix + "/login";
        cookie.LogoutPath = ConsoleComposition.PathPrefix + "/logout";
        cookie.AccessDeniedPath = ConsoleComposition.PathPrefix + "/login";
        cookie.ReturnUrlParameter = "returnUrl";
        cookie.ExpireTimeSpan = console.SessionTimeout;
        cookie.SlidingExpiration = true;
        cookie.Events.OnValidatePrincipal = ValidateAsync;
    }

    public static CookieSecurePolicy SecurePolicy(ConsoleOptions console) =>
        console.CookieSecurity == ConsoleCookieSecurity.Always ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;

    public static ClaimsPrincipal Principal(AdminApiKey key)
    {
        var digest = Convert.ToBase64String(AdminAccess.Digest(key.Key));
        List<Claim> claims = [new(ClaimTypes.NameIdentifier, digest), new(ClaimTypes.Name, key.Name), new(DigestClaim, digest)];
        if (key.ResellerId is { } reseller)
        {
            claims.Add(new Claim(ResellerClaim, reseller.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    /// <summary>The admin caller of a validated session, scoped exactly like an API call with the same key.</summary>
    public static AdminCaller Caller(ClaimsPrincipal user)
    {
        if (user.Identity?.IsAuthenticated != true || user.FindFirst(DigestClaim) is null)
        {
            return AdminCaller.Unauthenticated;
        }

        var reseller = user.FindFirst(ResellerClaim)?.Value;
        return new AdminCaller(user.Identity.Name ?? "?",
            reseller is null ? null : int.Parse(reseller, System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var access = context.HttpContext.RequestServices.GetRequiredService<AdminAccess>();
        var digest = context.Principal?.FindFirst(DigestClaim)?.Value;
        var bytes = new byte[32];
        var key = digest is not null && Convert.TryFromBase64String(digest, bytes, out var written) && written == bytes.Length
            ? access.FindByDigest(bytes)
            : null;
        if (key is null)
        {
            LogSessionEnded(context.HttpContext.RequestServices.GetRequiredService<ILogger<ConsoleLog>>(), context.Principal?.Identity?.Name ?? "?");
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme);
            return;
        }

        var caller = Caller(context.Principal!);
        if (caller.Name != key.Name || caller.ResellerId != key.ResellerId)
        {
            context.ReplacePrincipal(Principal(key));
            context.ShouldRenew = true;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin console: the session of {Name} ended because its key is no longer configured")]
    private static partial void LogSessionEnded(ILogger logger, string name);
}

/// <summary>Log category of the console.</summary>
public sealed class ConsoleLog;
