using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using FsDirectory.AdminConsole;
using FsDirectory.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FsDirectory.Tests.AdminConsole;

/// <summary>A console session over plain HTTP: cookies kept, redirects not followed, antiforgery tokens read from the page.</summary>
public sealed partial class ConsoleClient : IDisposable
{
    private readonly HttpClient _client;

    /// <param name="trust">Over HTTPS: decides whether the server's certificate is accepted (the test's own CA).</param>
    public ConsoleClient(FsDirectoryServer server, Func<HttpRequestMessage, System.Security.Cryptography.X509Certificates.X509Certificate2?,
        System.Security.Cryptography.X509Certificates.X509Chain?, System.Net.Security.SslPolicyErrors, bool>? trust = null)
    {
        Cookies = new CookieContainer();
        _client = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false, ServerCertificateCustomValidationCallback = trust })
        {
            BaseAddress = server.Address,
        };
    }

    public CookieContainer Cookies { get; }

    /// <summary>Sends <paramref name="name"/> on every later request (a proxy's X-Forwarded-For, or a forged one).</summary>
    public void SetHeader(string name, string value)
    {
        _client.DefaultRequestHeaders.Remove(name);
        _client.DefaultRequestHeaders.Add(name, value);
    }

    public Task<HttpResponseMessage> GetAsync(string path) => _client.GetAsync(new Uri(path, UriKind.Relative));

    public async Task<HttpResponseMessage> PostAsync(string path, IEnumerable<KeyValuePair<string, string>> fields) =>
        await _client.PostAsync(new Uri(path, UriKind.Relative), new FormUrlEncodedContent(fields));

    /// <summary>The antiforgery token of the first form on <paramref name="path"/>.</summary>
    public async Task<string> TokenAsync(string path)
    {
        using var page = await GetAsync(path);
        var html = await page.Content.ReadAsStringAsync();
        return TokenPattern().Match(html) is { Success: true } match
            ? WebUtility.HtmlDecode(match.Groups[1].Value)
            : throw new InvalidOperationException($"no antiforgery token on {path} ({(int)page.StatusCode})");
    }

    public async Task<HttpResponseMessage> LogInAsync(string key, string? returnUrl = null)
    {
        var token = await TokenAsync("/console/login");
        return await PostAsync("/console/login", [new("Key", key), new("ReturnUrl", returnUrl ?? string.Empty), new("__RequestVerificationToken", token)]);
    }

    /// <summary>The expires attribute of a Set-Cookie header.</summary>
    public static DateTimeOffset Expires(string setCookie) =>
        DateTimeOffset.Parse(Regex.Match(setCookie, "expires=([^;]+)", RegexOptions.IgnoreCase).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose() => _client.Dispose();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}

public sealed class ConsoleHttpFixture : DemoServerFixture
{
    public const string AdminKey = "http-admin-key-0123456789-abc";

    /// <summary>Per request path: whether the authentication, authorization or antiforgery middleware ran for it.</summary>
    public ConcurrentDictionary<string, bool> ConsoleMiddlewareRan { get; } = new();

    public const string RevocableKey = "http-revocable-key-0123456789";

    protected override IDictionary<string, string?> Settings => AdminKeys.Settings((AdminKey, "ops", null), (RevocableKey, "leaver", null));

    protected override Action<WebApplication>? Configure => app => app.Use(async (context, next) =>
    {
        // Placed after the whole service pipeline: what ran before it leaves these marks on the request.
        ConsoleMiddlewareRan[context.Request.Path] = context.Features.Get<IAuthenticationFeature>() is not null
            || context.Items.Keys.OfType<string>().Any(k => k.Contains("MiddlewareWithEndpointInvoked", StringComparison.Ordinal));
        await next(context);
    });
}

public sealed class ConsoleHttpTests(ConsoleHttpFixture fixture) : IClassFixture<ConsoleHttpFixture>
{
    private readonly FsDirectoryServer _server = fixture.Server;

    [Fact]
    public async Task Console_middleware_never_runs_for_freeswitch_requests()
    {
        using (await _server.PostAsync(FreeSwitchForm.Load("directory-sip_auth-register")))
        {
        }

        using var client = new ConsoleClient(_server);
        using (await client.GetAsync("/console/login"))
        {
        }

        Assert.False(fixture.ConsoleMiddlewareRan["/freeswitch"], "authentication, authorization or antiforgery middleware ran for /freeswitch");
        Assert.True(fixture.ConsoleMiddlewareRan["/console/login"], "the probe does not see the console's middleware, so it proves nothing");
    }

    [Fact]
    public async Task Console_responses_carry_the_security_headers_and_freeswitch_answers_do_not()
    {
        using var client = new ConsoleClient(_server);
        using var login = await client.GetAsync("/console/login");
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var csp = string.Join(';', login.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("style-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", login.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", login.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", login.Headers.GetValues("Referrer-Policy").Single());
        Assert.Contains("no-store", login.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        Assert.StartsWith("app;dur=", login.Headers.GetValues("Server-Timing").Single(), StringComparison.Ordinal);

        // Redirects and refusals carry them too.
        using var redirect = await client.GetAsync("/console/ip-settings");
        Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
        Assert.Equal("/console/login", redirect.Headers.Location!.AbsolutePath);
        Assert.True(redirect.Headers.Contains("Content-Security-Policy"));

        using var answer = await _server.PostAsync(FreeSwitchForm.Load("directory-sip_auth-register"));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.False(answer.Headers.Contains("Content-Security-Policy"));
        Assert.False(answer.Headers.Contains("Set-Cookie"));
        Assert.False(answer.Headers.Contains("Server-Timing"));
    }

    [Fact]
    public async Task The_session_cookie_is_httponly_samesite_strict_scoped_to_the_console_expires_and_never_holds_the_key()
    {
        using var client = new ConsoleClient(_server);
        using var login = await client.LogInAsync(ConsoleHttpFixture.AdminKey);
        Assert.Equal(HttpStatusCode.Found, login.StatusCode);
        Assert.Equal("/console/ip-settings", login.Headers.Location!.OriginalString);

        var session = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(ConsoleSession.CookieName + "=", StringComparison.Ordinal));
        Assert.Contains("path=/console", session, StringComparison.Ordinal);
        Assert.Contains("httponly", session, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", session, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("expires=", session, StringComparison.OrdinalIgnoreCase);
        // Plain HTTP on loopback: Secure would make the browser drop it (Console:CookieSecurity=Always forces it).
        Assert.DoesNotContain("secure", session, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(ConsoleHttpFixture.AdminKey, session, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(FsDirectory.Admin.AdminAccess.Digest(ConsoleHttpFixture.AdminKey)), session, StringComparison.OrdinalIgnoreCase);
        Assert.InRange(ConsoleClient.Expires(session) - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(55), TimeSpan.FromMinutes(61));

        using var list = await client.GetAsync("/console/ip-settings");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Contains("Shared SBC Contoso", await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(ConsoleHttpFixture.AdminKey, _server.Logs.All, StringComparison.Ordinal);
        Assert.Contains("Admin console: ops signed in", _server.Logs.All, StringComparison.Ordinal);

        var logout = await client.TokenAsync("/console/ip-settings");
        using var bye = await client.PostAsync("/console/logout", [new("__RequestVerificationToken", logout)]);
        Assert.Equal(HttpStatusCode.Found, bye.StatusCode);
        using var after = await client.GetAsync("/console/ip-settings");
        Assert.Equal(HttpStatusCode.Found, after.StatusCode);
    }

    [Fact]
    public async Task Removing_a_key_from_the_configuration_ends_its_sessions_at_their_next_request()
    {
        using var leaver = new ConsoleClient(_server);
        using var ops = new ConsoleClient(_server);
        using (await leaver.LogInAsync(ConsoleHttpFixture.RevocableKey))
        using (await ops.LogInAsync(ConsoleHttpFixture.AdminKey))
        using (var before = await leaver.GetAsync("/console/ip-settings"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        // The key is rotated in the configuration (Admin:ApiKeys is read through IOptionsMonitor).
        var configuration = (Microsoft.Extensions.Configuration.IConfigurationRoot)_server.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>();
        configuration["Admin:ApiKeys:1:Key"] = "http-rotated-key-0123456789-new";
        configuration.Reload();

        using var after = await leaver.GetAsync("/console/ip-settings");
        Assert.Equal(HttpStatusCode.Found, after.StatusCode);
        Assert.Equal("/console/login", after.Headers.Location!.AbsolutePath);
        Assert.Contains("the session of leaver ended", _server.Logs.All, StringComparison.Ordinal);
        using var still = await ops.GetAsync("/console/ip-settings");
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }

    [Fact]
    public async Task A_signed_in_post_without_a_valid_antiforgery_token_is_refused_with_400_and_changes_nothing()
    {
        using var client = new ConsoleClient(_server);
        using (await client.LogInAsync(ConsoleHttpFixture.AdminKey))
        {
        }

        using var none = await client.PostAsync("/console/ip-settings?handler=Deactivate", [new("ids", "1"), new("returnUrl", "/console/ip-settings")]);
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        Assert.Contains("Form refused", await none.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A token of another session is no better.
        using var other = new ConsoleClient(_server);
        using (await other.LogInAsync(ConsoleHttpFixture.AdminKey))
        {
        }

        var foreign = await other.TokenAsync("/console/ip-settings");
        using var forged = await client.PostAsync("/console/ip-settings?handler=Deactivate", [new("ids", "1"), new("__RequestVerificationToken", foreign)]);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(0, await fixture.Database.ScalarAsync<int>("SELECT status FROM ip_map WHERE id = 1"));

        // The login form is protected too (login CSRF).
        using var anonymous = new ConsoleClient(_server);
        using var login = await anonymous.PostAsync("/console/login", [new("Key", ConsoleHttpFixture.AdminKey)]);
        Assert.Equal(HttpStatusCode.BadRequest, login.StatusCode);
    }

    [Theory]
    [InlineData("https://evil.example/console/ip-settings")]
    [InlineData("//evil.example/console")]
    [InlineData("/health/ready")]
    public async Task Sign_in_only_returns_to_console_pages_of_this_site(string returnUrl)
    {
        using var client = new ConsoleClient(_server);
        using var login = await client.LogInAsync(ConsoleHttpFixture.AdminKey, returnUrl);
        Assert.Equal(HttpStatusCode.Found, login.StatusCode);
        Assert.Equal("/console/ip-settings", login.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task A_wrong_key_gets_401_and_is_logged_without_the_key()
    {
        using var client = new ConsoleClient(_server);
        const string Wrong = "wrong-console-key-0123456789";
        using var login = await client.LogInAsync(Wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        Assert.Contains("This key is not valid.", await login.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(Wrong, _server.Logs.All, StringComparison.Ordinal);
        Assert.Contains("sign-in from 127.0.0.1 refused: unknown key", _server.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assets_are_versioned_cached_for_a_year_and_served_with_their_type()
    {
        var url = ConsoleAssets.Url("console.js");
        using var client = new ConsoleClient(_server);
        using var script = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        Assert.Contains("immutable", script.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        Assert.Contains("progressive enhancement", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var stale = await client.GetAsync("/console/assets/console.js?v=old");
        Assert.Equal("no-cache", stale.Headers.CacheControl!.ToString());
        using var missing = await client.GetAsync("/console/assets/other.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}

public sealed class ConsoleOffTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    [Theory]
    [InlineData("/console")]
    [InlineData("/console/login")]
    [InlineData("/console/ip-settings")]
    [InlineData("/console/assets/console.css")]
    public async Task Without_keys_every_console_path_answers_404(string path)
    {
        using var client = new ConsoleClient(fixture.Server);
        using var get = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        using var post = await client.PostAsync(path, [new("Key", "anything-0123456789-abcdef")]);
        Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        Assert.Contains("Admin console and API are off", fixture.Server.Logs.All, StringComparison.Ordinal);
    }
}

public sealed class ConsoleSwitchedOffTests
{
    [Fact]
    public async Task Console_enabled_false_keeps_the_console_off_and_the_api_on()
    {
        await using var database = await TestDatabase.CreateAsync(seed: true);
        var settings = AdminKeys.Settings(("switched-off-key-0123456789", "ops", null));
        settings["Console:Enabled"] = "false";
        await using var server = await FsDirectoryServer.StartAsync(database.ConnectionString, settings);
        using var client = new ConsoleClient(server);
        using var login = await client.GetAsync("/console/login");
        Assert.Equal(HttpStatusCode.NotFound, login.StatusCode);
        var (status, _) = await new Admin.AdminClient(server, "switched-off-key-0123456789").GetAsync("/api/ip-settings");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("Admin console is off (Console:Enabled=false)", server.Logs.All, StringComparison.Ordinal);
    }
}

public sealed class ConsoleHardeningFixture : DemoServerFixture
{
    public const string AdminKey = "hardening-admin-key-0123456789";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(AdminKeys.Settings((AdminKey, "ops", null)))
    {
        ["Console:CookieSecurity"] = "Always",
        ["Console:SessionTimeout"] = "00:10:00",
    };
}

public sealed class ConsoleHardeningTests(ConsoleHardeningFixture fixture) : IClassFixture<ConsoleHardeningFixture>
{
    [Fact]
    public async Task Behind_a_tls_proxy_the_cookies_are_secure_and_the_session_lasts_the_configured_time()
    {
        using var client = new ConsoleClient(fixture.Server);
        using var login = await client.LogInAsync(ConsoleHardeningFixture.AdminKey);
        Assert.Equal(HttpStatusCode.Found, login.StatusCode);
        var session = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(ConsoleSession.CookieName + "=", StringComparison.Ordinal));
        Assert.Contains("secure", session, StringComparison.OrdinalIgnoreCase);
        Assert.InRange(ConsoleClient.Expires(session) - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(11));
    }

    [Fact]
    public async Task After_ten_refused_keys_an_address_may_not_sign_in_for_a_while_even_with_the_right_key()
    {
        using var client = new ConsoleClient(fixture.Server);
        var token = await client.TokenAsync("/console/login");
        for (var i = 0; i < LoginThrottle.MaxFailures; i++)
        {
            using var refused = await client.PostAsync("/console/login", [new("Key", $"wrong-key-{i}-0123456789"), new("__RequestVerificationToken", token)]);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using var blocked = await client.PostAsync("/console/login", [new("Key", ConsoleHardeningFixture.AdminKey), new("__RequestVerificationToken", token)]);
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.Contains("Too many refused keys", await blocked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

public sealed class DemoKeyTests
{
    private const string DemoKey = "demo-key-for-loopback-0123456789";

    [Theory]
    [InlineData("http://0.0.0.0:0")]
    [InlineData("http://*:0")]
    [InlineData("http://127.0.0.1:0;http://[::]:0")]
    public async Task A_demo_key_on_a_listener_that_is_not_loopback_stops_the_service_before_it_binds(string urls)
    {
        await using var database = await TestDatabase.CreateAsync(seed: true);
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => FsDirectoryServer.StartAsync(
            database.ConnectionString, new Dictionary<string, string?> { ["Admin:DemoKey"] = DemoKey }, urls: urls));
        Assert.Contains("Admin:DemoKey is set, but the service would listen on", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(DemoKey, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_demo_key_on_loopback_signs_in_and_is_printed_with_the_console_url_at_start()
    {
        await using var database = await TestDatabase.CreateAsync(seed: true);
        await using var server = await FsDirectoryServer.StartAsync(database.ConnectionString, new Dictionary<string, string?> { ["Admin:DemoKey"] = DemoKey });
        Assert.Contains($"Admin console: {server.Address.ToString().TrimEnd('/')}/console/", server.Logs.All, StringComparison.Ordinal);
        Assert.Contains($"Admin console demo key (Admin:DemoKey, loopback only, for this local demo): {DemoKey}", server.Logs.All, StringComparison.Ordinal);

        using var client = new ConsoleClient(server);
        using var login = await client.LogInAsync(DemoKey);
        Assert.Equal(HttpStatusCode.Found, login.StatusCode);
        using var list = await client.GetAsync("/console/ip-settings");
        Assert.Contains("demo", await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://127.0.0.2:8080", true)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("https://127.0.0.1:0", true)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://[::]:8080", false)]
    [InlineData("http://*:8080", false)]
    [InlineData("http://+:8080", false)]
    [InlineData("http://192.0.2.5:8080", false)]
    [InlineData("http://fsdir.example.org:8080", false)]
    public void Only_loopback_listeners_count_as_loopback(string address, bool loopback) =>
        Assert.Equal(loopback, LoopbackGuard.IsLoopback(address));

    [Fact]
    public void Configured_addresses_include_urls_ports_and_kestrel_endpoints()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:8080;http://localhost:8081",
            ["http_ports"] = "8082",
            ["Kestrel:Endpoints:Main:Url"] = "https://192.0.2.7:8443",
        }).Build();
        Assert.Equal(
            ["http://127.0.0.1:8080", "http://localhost:8081", "http://*:8082", "https://192.0.2.7:8443"],
            LoopbackGuard.ConfiguredAddresses(configuration));
    }
}
