using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using FsDirectory.FreeSwitch;
using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Reliability;

public sealed class HostileInputFixture : DemoServerFixture
{
    // Every refused request writes its line, so every hostile value goes through the log path.
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["FreeSwitch:RequestLogLinesPerSecond"] = "0" };

    // The proxy of the real proxied capture, trusted on every profile: its X-AUTH-IP is then acted on.
    protected override Task SeedAsync(TestDatabase database) =>
        database.ExecuteAsync("INSERT INTO fsdir_trusted_proxies (name, ip, sip_profile_id) VALUES ('capture proxy', '127.0.0.20/32', 0)");
}

/// <summary>
/// Hostile values in every field the service reads, for every real capture kind: what ASTPP's
/// handler turned into SQL injection and malformed XML must here stay inert data.
/// </summary>
public sealed partial class HostileInputTests(HostileInputFixture fixture) : IClassFixture<HostileInputFixture>
{
    /// <summary>The demo seed's device passwords: never in a log line, whatever is posted.</summary>
    private static readonly (string User, string Password)[] SeededDevices =
    [
        ("1001", "Contoso-1001-secret"), ("1002", "Contoso-1002-secret"), ("2001", "Fabrikam-2001-secret"),
        ("2002", "Fabrikam-2002-secret"), ("3001", "Tailspin-3001-secret"),
    ];

    /// <summary>(label, value as it appears on the wire, already form-encoded).</summary>
    private static readonly (string Label, string Raw)[] HostileValues =
    [
        .. new[]
        {
            "' OR '1'='1", "1001' OR 1=1 -- ", "1001\"; DROP TABLE sip_devices; --", "1001' UNION SELECT dir_params FROM sip_devices #",
            "1001%", "%", "_", "*", "1001\\", "\\'", "\"'<>&", "<script>alert(1)</script>", "a&b", "&amp;&#36;", "]]>",
            "$${local_ip_v4}", "${system(rm -rf /)}", "${sip_h_X-Secret}", "$1", "$", "<X-PRE-PROCESS cmd=\"exec\" data=\"id\"/>",
            "x-pre-process", "<?xml version=\"1.0\"?>", "<include>", "</document>", "\0", "1001\0", "\u0001\u0002\u001b[31m\u007f",
            "\r\n<extension name=\"x\">", "\t\v\f", "\u2028\u2029\ufeff", new string('9', 10_240), new string('<', 10_240),
            string.Concat(Enumerable.Repeat("$${a}", 2_048)), "fe80::1%eth0", "[fe80::1%25eth0]", "::ffff:999.1.1.1", "999.1.1.1",
            "192.0.2.10/0", "0.0.0.0/0", "192.0.2.10 OR 1=1", "0x7f.1", "127.1", "192.0.2.10%eth0", "localhost", "", " ",
            "12066418000;hangup", "12066418000 XML public", "1001@127.0.0.1",
        }.Select(v => (Label: Describe(v), Raw: Uri.EscapeDataString(v))),
        ("invalid UTF-8 %FF%FE", "%FF%FE"), ("invalid UTF-8 1001%FF", "1001%FF"), ("overlong %C0%AF", "%C0%AF"),
        ("lone surrogate", "%ED%A0%80"), ("lone percent", "%"), ("bad escape", "%zz%"), ("plus signs", "1001+OR+1%3D1"),
        ("raw NUL", "%00"),
    ];

    /// <summary>The one <c>$</c> the demo data legitimately sends: admin-authored profile settings expand globals.</summary>
    private const string AdminGlobal = "$${local_ip_v4}";

    private const string ProxiedCapture = "dialplan-proxied-x-auth-ip";

    private static readonly string[] Captures =
    [
        "configuration-acl.conf", "configuration-event_socket.conf", "configuration-sofia.conf", "configuration-sofia.conf-profile",
        "dialplan-acl-authed-tech-prefix", "dialplan-digest-authed", "dialplan-hash-prefix", "dialplan-plus-number", ProxiedCapture,
        "directory-gateways", "directory-sip_auth-invite", "directory-sip_auth-register",
    ];

    private readonly FsDirectoryServer _server = fixture.Server;

    public static TheoryData<string> CaptureKinds => new(Captures);

    /// <summary>
    /// Dialplan captures are pointed at a demo IP rule first, so an injected field has a real account to
    /// try to reach; the proxied capture keeps its (trusted) proxy and names that rule's address in X-AUTH-IP.
    /// </summary>
    private static FreeSwitchForm Baseline(string capture)
    {
        var form = FreeSwitchForm.Load(capture);
        if (!capture.StartsWith("dialplan-", StringComparison.Ordinal))
        {
            return form;
        }

        form = form.With("Hunt-Destination-Number", "12066418000").With("Caller-Destination-Number", "12066418000")
            .With("variable_sofia_profile_name", "default");
        return capture == ProxiedCapture
            ? form.With(FreeSwitchRequest.XAuthIpField, "192.0.2.10")
            : form.With("Hunt-Network-Addr", "192.0.2.10").With("Caller-Network-Addr", "192.0.2.10");
    }

    [Theory]
    [MemberData(nameof(CaptureKinds))]
    public async Task Hostile_values_in_every_read_field_give_inert_well_formed_answers(string capture)
    {
        var baseline = Baseline(capture);
        var baselineDocument = XDocument.Parse(await ReadAnswerAsync(baseline, "baseline"));
        if (capture.StartsWith("dialplan-", StringComparison.Ordinal))
        {
            Assert.Contains(("transfer", "12066418000 XML default"), Actions(baselineDocument));
        }

        var isDeviceLookup = baseline["action"] == "sip_auth";
        var failures = new List<string>();

        var cases = FreeSwitchRequest.ReadFields.SelectMany(field => HostileValues.Select(value => (Field: field, value.Label, value.Raw)));
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (c, _) =>
        {
            var what = $"{capture}: {c.Field} = {c.Label}";
            try
            {
                var text = await ReadAnswerAsync(baseline.WithRawValue(c.Field, c.Raw), what);
                var document = XDocument.Parse(text);

                // No caller-controlled '$' reaches FreeSWITCH unescaped: only the seeded sofia profile's own $${local_ip_v4} may appear.
                var withoutAdminGlobals = text.Replace(AdminGlobal, string.Empty, StringComparison.Ordinal);
                Assert.True(!withoutAdminGlobals.Contains('$', StringComparison.Ordinal), $"{what}: unescaped $ in {Excerpt(text)}");
                Assert.DoesNotContain("${system", text, StringComparison.Ordinal);

                if (isDeviceLookup && c.Field == "user")
                {
                    Assert.True(IsNotFound(document), $"{what}: a device was found by {c.Label}");
                }

                foreach (var (application, data) in Actions(document).Where(a => a.Application == "transfer"))
                {
                    Assert.True(TransferData().IsMatch(data), $"{what}: transfer data '{Excerpt(data)}' is not a plain number and context");
                }

                // An empty Hunt-Network-Addr falls back to Caller-Network-Addr, which still holds the real address.
                if (c.Field == "Hunt-Network-Addr" && c.Raw.Length > 0 && Actions(document).Any(a => a.Application == "transfer"))
                {
                    Assert.Fail($"{what}: a garbage source address was authenticated");
                }

                // From a trusted proxy, no hostile X-AUTH-IP value is exactly one address: the call is refused.
                if (capture == ProxiedCapture && c.Field == FreeSwitchRequest.XAuthIpField && Actions(document).Any(a => a.Application == "transfer"))
                {
                    Assert.Fail($"{what}: a garbage X-AUTH-IP from a trusted proxy was authenticated");
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                lock (failures)
                {
                    failures.Add(ex.Message);
                }
            }
        });

        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(20)));
        AssertNoSecretLogged();
    }

    [Fact]
    public async Task Dialplan_post_with_hundreds_of_extra_sip_header_variables_is_answered_like_the_plain_post()
    {
        var plain = Baseline("dialplan-acl-authed-tech-prefix");
        var loaded = plain;
        for (var i = 0; i < 600; i++)
        {
            loaded = loaded.With($"variable_sip_h_X-Custom-Header-{i}", $"value {i} " + new string('v', 200));
        }

        var expected = Actions(await _server.FetchAsync(plain));
        var actual = Actions(await _server.FetchAsync(loaded));

        Assert.True(loaded.Count > 700);
        Assert.Contains(("transfer", "12066418000 XML default"), expected);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task Body_over_the_size_limit_is_refused_with_413()
    {
        var form = Baseline("directory-sip_auth-register").With("variable_big", new string('a', 1_100_000));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/freeswitch") { Content = form.ToContent() };

        // libcurl (mod_xml_curl) asks "Expect: 100-continue" for bodies this large; the service reads only the
        // first 64 KiB (to tell a dialplan fetch's context and profile) before answering 413.
        request.Headers.ExpectContinue = true;
        using var response = await _server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await AssertStillAnsweringAsync();
    }

    [Fact]
    public async Task Chunked_body_over_the_size_limit_is_refused_with_413()
    {
        var body = Encoding.UTF8.GetBytes(Baseline("directory-sip_auth-register").Body + "&variable_big=" + new string('a', 1_100_000));
        var content = new StreamContent(new NoLengthStream(body));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-www-form-urlencoded");

        using var response = await _server.Client.PostAsync("/freeswitch", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await AssertStillAnsweringAsync();
    }

    [Fact]
    public async Task Too_many_fields_are_refused_cleanly_and_the_next_request_is_answered()
    {
        var form = Baseline("directory-sip_auth-register");
        var body = form.Body + string.Concat(Enumerable.Range(0, 5_000).Select(i => $"&variable_f{i}=1"));
        using var content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded");

        using var response = await _server.Client.PostAsync("/freeswitch", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("refused with 413", _server.Logs.All, StringComparison.Ordinal);
        await AssertStillAnsweringAsync();
    }

    [Fact]
    public async Task Duplicated_read_field_is_not_found_every_time_whichever_copy_names_a_device()
    {
        var form = Baseline("directory-sip_auth-register");
        var answers = new List<string>();
        foreach (var duplicated in new[] { form.WithRaw("user", "1002"), form.WithRaw("user", "1001"), form.WithRaw("USER", "1002") })
        {
            answers.Add(await ReadAnswerAsync(duplicated, "duplicate user"));
        }

        Assert.All(answers, a => Assert.True(IsNotFound(XDocument.Parse(a))));
        Assert.Single(answers.Distinct());
    }

    [Fact]
    public async Task Duplicated_field_the_service_does_not_read_changes_nothing()
    {
        var form = Baseline("directory-sip_auth-register");

        var plain = await ReadAnswerAsync(form, "plain");
        var duplicated = await ReadAnswerAsync(form.WithRaw("sip_auth_nonce", "x").WithRaw("sip_auth_nonce", "y"), "duplicate nonce");

        Assert.Equal(plain, duplicated);
        Assert.Contains("a1-hash", plain, StringComparison.Ordinal);
    }

    private async Task<string> ReadAnswerAsync(FreeSwitchForm form, string what)
    {
        using var response = await _server.PostAsync(form);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{what}: HTTP {(int)response.StatusCode} {Excerpt(text)}");
        Assert.Equal("text/xml", response.Content.Headers.ContentType?.MediaType);
        AssertSurvivesPreprocessor(text);
        return text;
    }

    private async Task AssertStillAnsweringAsync()
    {
        var document = await _server.FetchAsync(FreeSwitchForm.Load("directory-sip_auth-register"));
        Assert.NotNull(Param(document, "a1-hash"));
    }

    private void AssertNoSecretLogged()
    {
        var logs = _server.Logs.All;
        Assert.NotEmpty(logs);
        var domains = HostileValues.Select(v => WebUtility.UrlDecode(v.Raw)).Append("127.0.0.1");
        foreach (var (user, password) in SeededDevices)
        {
            Assert.DoesNotContain(password, logs, StringComparison.Ordinal);
            foreach (var domain in domains)
            {
                Assert.DoesNotContain(Md5($"{user}:{domain}:{password}"), logs, StringComparison.Ordinal);
            }
        }
    }

    private static string Md5(string text) =>
#pragma warning disable CA5351 // a1-hash is MD5 by definition (RFC 2617); this only recomputes it to search the logs
        Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5351

    private static string Describe(string value) =>
        value.Length > 40 ? $"{value[..10].Replace("\0", "\\0", StringComparison.Ordinal)}... ({value.Length} chars)" : string.Concat(value.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));

    private static string Excerpt(string text) => text.Length > 300 ? text[..300] + "..." : text;

    /// <summary>SIP user parts may be alphanumeric (<c>alice</c>); what must never reach transfer data is a space, <c>$</c>, braces or quotes.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9+*#._-]{1,64} XML [A-Za-z0-9._-]{1,64}$")]
    private static partial Regex TransferData();

    /// <summary>A body without Content-Length, so HttpClient sends it chunked and only Kestrel's body limit can stop it.</summary>
    private sealed class NoLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
