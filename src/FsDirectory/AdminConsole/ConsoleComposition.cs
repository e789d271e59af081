using FsDirectory.Admin;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.Mvc.ApplicationModels;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace FsDirectory.AdminConsole;

/// <summary>
/// The admin console: Razor Pages under /console, server-rendered (paging, sorting, filters and every action
/// work without JavaScript), a cookie session for the console only (the JSON API keeps its X-Api-Key), and
/// antiforgery on every form. Its middleware runs only for /console paths: /freeswitch never pays for it.
/// </summary>
public static class ConsoleComposition
{
    public const string PathPrefix = "/console";

    public static IServiceCollection AddAdminConsole(this IServiceCollection services)
    {
        services.AddOptions<ConsoleOptions>().BindConfiguration(ConsoleOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddRazorPages(pages =>
            {
                pages.RootDirectory = "/AdminConsole/Pages";
                pages.Conventions.Add(new ConsoleRoutes());
                pages.Conventions.AuthorizeFolder("/", ConsoleSession.Policy);
                pages.Conventions.AllowAnonymousToPage("/Login");
            })
            .ConfigureApplicationPartManager(AddOwnPages)
            .AddMvcOptions(mvc =>
            {
                // The admin services validate every field (RFC 7807 with the field at fault); the pages add no rules of their own.
                mvc.SuppressImplicitRequiredAttributeForNonNullableReferenceTypes = true;
                mvc.Filters.Add<AntiforgeryRefusal>();
            });

        services.AddAuthentication().AddCookie(ConsoleSession.Scheme);
        services.AddOptions<CookieAuthenticationOptions>(ConsoleSession.Scheme)
            .Configure<IOptions<ConsoleOptions>>((cookie, console) => ConsoleSession.Configure(cookie, console.Value));
        services.AddAuthorization(authorization => authorization.AddPolicy(ConsoleSession.Policy,
            policy => policy.AddAuthenticationSchemes(ConsoleSession.Scheme).RequireAuthenticatedUser()));

        services.AddAntiforgery();
        services.AddOptions<AntiforgeryOptions>().Configure(antiforgery =>
        {
            antiforgery.Cookie.Name = "fsdir_console_csrf";
            antiforgery.Cookie.Path = PathPrefix;
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            // SameAsRequest even with Console:CookieSecurity=Always: antiforgery refuses to run at all on a plain-HTTP
            // request with Always, which is what Kestrel sees behind a TLS-terminating proxy. The token cookie alone
            // is worth nothing without the page's token; the session cookie is the one that must be Secure.
            antiforgery.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            antiforgery.HeaderName = "X-CSRF-TOKEN";
            // ConsoleGate sends X-Frame-Options: DENY (and frame-ancestors 'none') on every console response.
            antiforgery.SuppressXFrameOptionsHeader = true;
        });

        // A fixed application name, so instances that share Console:DataProtectionKeysPath accept each other's sessions.
        services.AddDataProtection().SetApplicationName("FsDirectory");
        services.AddOptions<KeyManagementOptions>().Configure<IOptions<ConsoleOptions>, ILoggerFactory>((keys, console, loggers) =>
        {
            if (console.Value.DataProtectionKeysPath is { } path)
            {
                keys.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(path), loggers);
            }
        });

        services.AddSingleton<LoginThrottle>();
        services.AddHostedService<LoopbackGuard>();
        services.AddOptions<CookieTempDataProviderOptions>().Configure<IOptions<ConsoleOptions>>((tempData, console) =>
        {
            tempData.Cookie.Name = "fsdir_console_notice";
            tempData.Cookie.Path = PathPrefix;
            tempData.Cookie.SameSite = SameSiteMode.Strict;
            tempData.Cookie.SecurePolicy = ConsoleSession.SecurePolicy(console.Value);
        });
        return services;
    }

    public static WebApplication MapAdminConsole(this WebApplication app)
    {
        var pipeline = (IApplicationBuilder)app;
        app.UseWhen(IsConsoleRequest, console =>
        {
            console.Use(ConsoleGate.InvokeAsync);
            console.UseStatusCodePages(ConsoleGate.StatusPageAsync);
            console.UseAuthentication();
            console.UseAuthorization();
            console.UseAntiforgery();

            // WebApplication adds authentication, authorization and antiforgery middleware to the whole
            // pipeline unless it finds them installed (a flag each Use... call leaves in Properties). They are
            // installed here, for console paths only, so the flags are copied up: /freeswitch then runs none
            // of them (a per-request cost at thousands of fetches per second, for nothing).
            foreach (var (key, value) in console.Properties)
            {
                pipeline.Properties.TryAdd(key, value);
            }
        });
        app.MapRazorPages();
        app.MapConsoleAssets();
        return app;
    }

    /// <summary>
    /// MVC finds pages in the entry assembly. That is this one under `make run`, but not when a host (the test
    /// server, the benchmark host) composes the service, so the console's pages are added unless already there.
    /// </summary>
    private static void AddOwnPages(ApplicationPartManager parts)
    {
        var assembly = typeof(ConsoleComposition).Assembly;
        if (parts.ApplicationParts.OfType<AssemblyPart>().Any(p => p.Assembly == assembly))
        {
            return;
        }

        foreach (var part in ApplicationPartFactory.GetApplicationPartFactory(assembly).GetApplicationParts(assembly))
        {
            parts.ApplicationParts.Add(part);
        }
    }

    public static bool IsConsoleRequest(HttpContext context) => context.Request.Path.StartsWithSegments(PathPrefix);

    /// <summary>Every page lives under /console (its @page template, or its file path, prefixed).</summary>
    private sealed class ConsoleRoutes : IPageRouteModelConvention
    {
        public void Apply(PageRouteModel model)
        {
            foreach (var selector in model.Selectors)
            {
                var template = (selector.AttributeRouteModel?.Template ?? string.Empty).TrimStart('~', '/').TrimEnd('/');
                selector.AttributeRouteModel = new AttributeRouteModel { Template = PathPrefix.TrimStart('/') + (template.Length == 0 ? string.Empty : "/" + template) };
            }
        }
    }
}
