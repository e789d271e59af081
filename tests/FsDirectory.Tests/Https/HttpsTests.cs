using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FsDirectory.Tests.AdminConsole;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Https;

/// <summary>The service on an HTTPS listener with the lab PKI, switch certificates required on /freeswitch.</summary>
public sealed class HttpsFixture : IAsyncLifetime
{
    public const string AdminKey = "https-admin-key-0123456789-abc";

    public LabPki Pki { get; private set; } = null!;
    public TestDatabase Database { get; private set; } = null!;
    public FsDirectoryServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Pki = await LabPki.CreateAsync();
        Database = await TestDatabase.CreateAsync(seed: true);
        var settings = AdminKeys.Settings((AdminKey, "ops", null));
        settings["Https:CertificatePath"] = Pki.ServerCertificate;
        settings["Https:KeyPath"] = Pki.ServerKey;
        settings["Https:ReloadInterval"] = "00:00:00.500";
        settings["FreeSwitch:Access:ClientCertificate"] = "Required";
        settings["FreeSwitch:Access:TrustedCaFile"] = Pki.Ca;
        settings["FreeSwitch:Access:AllowedSubjects:0"] = "switch1";
        settings["FreeSwitch:Access:AllowedSubjects:1"] = "CN=expired";
        Server = await FsDirectoryServer.StartAsync(Database.ConnectionString, settings, urls: "https://127.0.0.1:0");
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Database.DisposeAsync();
        Pki.Dispose();
    }
}

public sealed class HttpsTests(HttpsFixture fixture) : IClassFixture<HttpsFixture>
{
    private string Url(string path) => new Uri(fixture.Server.Address, path).ToString();

    /// <summary>curl with the options mod_xml_curl sets for enable-cacert-check, ssl-cacert-file, enable-ssl-verifyhost, ssl-cert-path and ssl-key-path.</summary>
    private async Task<CommandResult> FetchAsync(string? certificate, string? key, string? ca = null)
    {
        var arguments = new List<string>
        {
            "--silent", "--show-error", "--max-time", "20", "--output", "-", "--write-out", "\n%{http_code}",
            "--user-agent", "freeswitch-xml/1.0", "--cacert", ca ?? fixture.Pki.Ca,
            "--data-binary", "@" + Paths.FreeSwitchFixture("directory-sip_auth-register"),
        };
        if (certificate is not null)
        {
            arguments.AddRange(["--cert", certificate, "--key", key!]);
        }

        arguments.Add(Url("/freeswitch"));
        return await Command.RunAsync("curl", arguments);
    }

    private static string Status(CommandResult result) => result.Output.Split('\n')[^1];

    [Fact]
    public async Task Only_a_switch_certificate_from_the_trusted_ca_with_an_allowed_subject_gets_an_answer()
    {
        var pki = fixture.Pki;
        var before = await MetricsText.ScrapeAsync(NewClient());

        var good = await FetchAsync(pki.File("switch1.pem"), pki.File("switch1.key"));
        var none = await FetchAsync(null, null);
        var untrusted = await FetchAsync(Path.Combine(pki.UntrustedDirectory, "rogue.pem"), Path.Combine(pki.UntrustedDirectory, "rogue.key"));
        var expired = await FetchAsync(pki.File("expired.pem"), pki.File("expired.key"));
        var wrongSubject = await FetchAsync(pki.File("switch2.pem"), pki.File("switch2.key"));

        Assert.Equal("200", Status(good));
        Assert.Contains("<user id=\"1001\"", good.Output, StringComparison.Ordinal);
        foreach (var refused in new[] { none, untrusted, expired, wrongSubject })
        {
            Assert.Equal("403", Status(refused));
            Assert.DoesNotContain("a1-hash", refused.Output, StringComparison.Ordinal);
        }

        var after = await MetricsText.ScrapeAsync(NewClient());
        foreach (var reason in new[] { "missing", "untrusted", "expired", "not_allowed" })
        {
            Assert.Equal(1, MetricsText.Value(after, "fsdir_freeswitch_client_certificate_refusals_total", $"reason=\"{reason}\"")
                - MetricsText.Value(before, "fsdir_freeswitch_client_certificate_refusals_total", $"reason=\"{reason}\""));
        }

        Assert.True(fixture.Server.Logs.Lines.Any(l => l.Contains("refused with 403: certificate subject 'CN=switch2' is not in AllowedSubjects", StringComparison.Ordinal)), string.Join("\n", fixture.Server.Logs.Lines.Where(l => l.Contains("403", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task A_switch_that_checks_the_server_certificate_refuses_one_from_another_ca()
    {
        var result = await FetchAsync(fixture.Pki.File("switch1.pem"), fixture.Pki.File("switch1.key"), ca: Path.Combine(fixture.Pki.UntrustedDirectory, "ca.pem"));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("certificate", result.Errors, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_admin_api_and_console_share_the_listener_without_a_client_certificate_with_hsts_and_a_secure_session_cookie()
    {
        using var client = NewClient();
        using var health = await client.GetAsync(new Uri("/health/live", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.StartsWith("max-age=", health.Headers.GetValues("Strict-Transport-Security").Single(), StringComparison.Ordinal);

        using var console = new ConsoleClient(fixture.Server, fixture.Pki.TrustsServer);
        using var login = await console.LogInAsync(HttpsFixture.AdminKey);
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var session = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("fsdir_console=", StringComparison.Ordinal));
        Assert.Contains("; secure", session, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("; httponly", session, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_replaced_server_certificate_is_served_to_new_connections_while_a_load_runs_without_an_error()
    {
        var before = await CurrentFingerprintAsync();
        var errors = 0;
        var requests = 0;
        using var stop = new CancellationTokenSource();
        var load = Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                // A new connection for every fetch, as mod_xml_curl opens one.
                using var client = NewClient();
                try
                {
                    using var response = await client.GetAsync(new Uri("/health/live", UriKind.Relative));
                    Interlocked.Increment(ref requests);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }));

        await Task.Delay(500);
        var rotated = await fixture.Pki.RotateServerAsync();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (await CurrentFingerprintAsync() != rotated && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        var served = await CurrentFingerprintAsync();
        await Task.Delay(500);
        await stop.CancelAsync();
        await load;

        Assert.NotEqual(before, rotated);
        Assert.Equal(rotated, served);
        Assert.True(requests > 20, $"only {requests} requests ran during the rotation");
        Assert.Equal(0, errors);
    }

    [Fact]
    public async Task A_switch_without_its_certificate_is_refused_on_every_fetch_and_counted_but_logged_only_a_few_lines_a_second()
    {
        const string Line = "refused with 403: no client certificate";
        const int Fetches = 100;
        using var client = NewClient();
        var metricsBefore = await MetricsText.ScrapeAsync(client);
        var linesBefore = fixture.Server.Logs.Lines.Count(l => l.Contains(Line, StringComparison.Ordinal));
        var form = await File.ReadAllTextAsync(Paths.FreeSwitchFixture("directory-sip_auth-register"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < Fetches; i++)
        {
            using var content = new StringContent(form.TrimEnd('\n', '\r'), System.Text.Encoding.UTF8, "application/x-www-form-urlencoded");
            using var response = await client.PostAsync(new Uri("/freeswitch", UriKind.Relative), content);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        var seconds = (int)Math.Ceiling(clock.Elapsed.TotalSeconds);
        // The next second's first line sums up what the cap left out.
        await Task.Delay(1100);
        using (var content = new StringContent(form.TrimEnd('\n', '\r'), System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"))
        using (var last = await client.PostAsync(new Uri("/freeswitch", UriKind.Relative), content))
        {
            Assert.Equal(HttpStatusCode.Forbidden, last.StatusCode);
        }

        var metricsAfter = await MetricsText.ScrapeAsync(client);
        var lines = fixture.Server.Logs.Lines.Where(l => l.Contains(Line, StringComparison.Ordinal)).Skip(linesBefore).ToList();
        Assert.Equal(Fetches + 1, MetricsText.Value(metricsAfter, "fsdir_freeswitch_client_certificate_refusals_total", "reason=\"missing\"")
            - MetricsText.Value(metricsBefore, "fsdir_freeswitch_client_certificate_refusals_total", "reason=\"missing\""));
        // FreeSwitch:RequestLogLinesPerSecond is 20 by default; the burst spans `seconds` clock seconds (+1 for a boundary).
        Assert.True(lines.Count <= 20 * (seconds + 1) + 1 && lines.Count < Fetches, $"{lines.Count} lines for {Fetches + 1} refusals in about {seconds} s");
        Assert.Matches(@"\(([1-9][0-9]*) similar lines left out", lines[^1]);
    }

    [Fact]
    public async Task Through_the_local_haproxy_speaking_tls_only_the_switch_certificate_it_presents_gets_an_answer()
    {
        var pki = fixture.Pki;
        var withCertificate = Path.Combine(pki.Directory, "switch1-with-key.pem");
        await File.WriteAllTextAsync(withCertificate, await File.ReadAllTextAsync(pki.File("switch1.pem")) + await File.ReadAllTextAsync(pki.File("switch1.key")));
        var tls = $"ssl verify required ca-file {pki.Ca}";
        await using var switchHost = await HaProxy.StartAsync($"{tls} crt {withCertificate}", fixture.Server.Address);
        await using var noCertificate = await HaProxy.StartAsync(tls, fixture.Server.Address);
        var form = FreeSwitchForm.Load("directory-sip_auth-register");

        // mod_xml_curl's single binding: plain HTTP to the balancer on the switch's loopback.
        using var client = new HttpClient();
        using var answered = await client.PostAsync(new Uri(switchHost.Address, "/freeswitch"), form.ToContent());
        using var refused = await client.PostAsync(new Uri(noCertificate.Address, "/freeswitch"), form.ToContent());

        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Contains("<user id=\"1001\"", await answered.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.DoesNotContain("a1-hash", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private HttpClient NewClient() =>
        new(new HttpClientHandler { ServerCertificateCustomValidationCallback = fixture.Pki.TrustsServer }) { BaseAddress = fixture.Server.Address };

    /// <summary>The SHA-256 fingerprint of the certificate a new connection is given.</summary>
    private async Task<string?> CurrentFingerprintAsync()
    {
        string? seen = null;
        using var client = new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (request, certificate, chain, errors) =>
            {
                seen = certificate?.GetCertHashString(HashAlgorithmName.SHA256);
                return fixture.Pki.TrustsServer(request, certificate, chain, errors);
            },
        }) { BaseAddress = fixture.Server.Address };
        using var response = await client.GetAsync(new Uri("/health/live", UriKind.Relative));
        return seen;
    }
}
