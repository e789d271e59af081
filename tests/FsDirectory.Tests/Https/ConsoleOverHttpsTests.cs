using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FsDirectory.Tests.AdminConsole;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Https;

/// <summary>
/// The console over an HTTPS listener of the lab PKI, in its own Chromium. Chromium has no switch to trust one more
/// CA without writing to the user's NSS store, so it is told to accept exactly the key of the lab server's
/// certificate (<c>--ignore-certificate-errors-spki-list</c>): any other certificate is still refused.
/// </summary>
public sealed class ConsoleOverHttpsFixture : IAsyncLifetime
{
    /// <summary>The HTTPS listener, lab PKI and database of <see cref="HttpsFixture"/>, here with a browser of its own.</summary>
    public HttpsFixture Https { get; } = new();
    public FsDirectoryServer Server => Https.Server;
    public Browser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Https.InitializeAsync();
        Browser = Browser.Start($"--ignore-certificate-errors-spki-list={SpkiPin(Https.Pki.ServerCertificate)}");
    }

    public async Task DisposeAsync()
    {
        Browser?.Dispose();
        await Https.DisposeAsync();
    }

    /// <summary>Base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo, as Chromium's flag takes it.</summary>
    private static string SpkiPin(string certificatePath)
    {
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(certificatePath));
        return Convert.ToBase64String(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));
    }
}

[Collection(ConsoleInChromium.Name)]
public sealed class ConsoleOverHttpsTests(ConsoleOverHttpsFixture fixture) : IClassFixture<ConsoleOverHttpsFixture>
{
    private Browser Browser => fixture.Browser;

    private void Go(string path) => Browser.Driver.Navigate().GoToUrl(new Uri(fixture.Server.Address, path));

    [Fact]
    public void Signing_in_over_https_in_chromium_sets_a_secure_http_only_session_cookie_and_the_console_works()
    {
        Assert.Equal("https", fixture.Server.Address.Scheme);
        Go("/console/ip-settings");
        Assert.StartsWith("/console/login", new Uri(Browser.Driver.Url).PathAndQuery, StringComparison.Ordinal);

        Browser.Find("#key").SendKeys(HttpsFixture.AdminKey);
        Browser.ClickAndWait("form button[type=submit]");

        Assert.Equal("/console/ip-settings", new Uri(Browser.Driver.Url).PathAndQuery);
        Assert.Equal("https", new Uri(Browser.Driver.Url).Scheme);
        Assert.True(Browser.Exists("tr[data-rule-id='1']"));
        var cookies = Browser.Driver.ExecuteCdpCommand("Network.getAllCookies", []) as Dictionary<string, object>
            ?? throw new InvalidOperationException("Network.getAllCookies answered nothing");
        var session = ((IEnumerable<object>)cookies["cookies"]).Cast<Dictionary<string, object>>()
            .Single(c => (string)c["name"] == "fsdir_console");
        Assert.True((bool)session["secure"]);
        Assert.True((bool)session["httpOnly"]);
        // A page script cannot read it, and the browser would not send it over plain HTTP.
        Assert.DoesNotContain("fsdir_console", Browser.Script<string>("return document.cookie"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_console_answers_chromium_with_hsts_over_https()
    {
        Go("/console/login");
        var hsts = Browser.Script<string>(
            "const r = new XMLHttpRequest(); r.open('GET', '/health/live', false); r.send(); return r.getResponseHeader('Strict-Transport-Security') || '';");
        Assert.StartsWith("max-age=", hsts, StringComparison.Ordinal);
    }
}
