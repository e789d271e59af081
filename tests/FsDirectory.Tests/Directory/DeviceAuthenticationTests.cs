using System.Security.Cryptography;
using System.Text;
using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Directory;

public sealed class DeviceAuthenticationFixture : DemoServerFixture
{
    public const string OddPassword = "p\"<>&$'${x}$${y}\u0001\t\n end";
    public const string OddCallerName = "O'Brien <\"&\"> $${domain} ${system(rm)}\u0007\uD800 X-PRE-PROCESS";

    protected override Task SeedAsync(TestDatabase database) => database.ExecuteAsync(
        """
        INSERT INTO accounts (id, number, reseller_id, pricelist_id, status, type, deleted) VALUES
          (20, '2000000020', 0, 1, 1, 0, 0), (21, '2000000021', 0, 1, 0, 0, 1), (22, '2000000022', 0, 1, 0, 0, 0);
        INSERT INTO sip_devices (id, username, accountid, reseller_id, dir_params, dir_vars, status) VALUES
          (20, 'inactive-account', 20, 0, '{"password":"x"}', '{}', 0),
          (21, 'deleted-account', 21, 0, '{"password":"x"}', '{}', 0),
          (22, 'odd', 22, 0, @params, @vars, 0),
          (23, 'no-password', 22, 0, '{"vm-password":"1"}', '{}', 0),
          (24, 'broken-json', 22, 0, '{"password":', '{}', 0);
        """,
        new
        {
            @params = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["password"] = OddPassword }),
            vars = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["effective_caller_id_name"] = OddCallerName, ["fsdir_auth"] = "ip", ["accountcode"] = "forged" }),
        });
}

public sealed class DeviceAuthenticationTests(DeviceAuthenticationFixture fixture) : IClassFixture<DeviceAuthenticationFixture>
{
    private readonly FsDirectoryServer _server = fixture.Server;

    private static FreeSwitchForm Register(string user) =>
        FreeSwitchForm.Load("directory-sip_auth-register").With("user", user).With("sip_auth_username", user);

    private static string Md5(string text) =>
#pragma warning disable CA5351
        Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5351

    [Fact]
    public async Task Registering_device_gets_the_md5_a1_hash_of_user_domain_and_password()
    {
        var document = await _server.FetchAsync(FreeSwitchForm.Load("directory-sip_auth-register"));

        Assert.Equal("127.0.0.1", document.Descendants("domain").Single().Attribute("name")!.Value);
        Assert.Equal("1001", document.Descendants("user").Single().Attribute("id")!.Value);
        Assert.Equal(Md5("1001:127.0.0.1:Contoso-1001-secret"), Param(document, "a1-hash"));
        Assert.Null(Param(document, "password"));
        Assert.Equal("1001", Param(document, "vm-password"));
    }

    [Fact]
    public async Task Device_answer_carries_account_variables_and_the_dir_vars()
    {
        var document = await _server.FetchAsync(FreeSwitchForm.Load("directory-sip_auth-invite"));

        Assert.Equal("1000000001", Variable(document, "accountcode"));
        Assert.Equal("device", Variable(document, "fsdir_auth"));
        Assert.Equal("2", Variable(document, "fsdir_account_id"));
        Assert.Equal("1", Variable(document, "fsdir_reseller_id"));
        Assert.Equal("default", Variable(document, "user_context"));
        Assert.Equal("Contoso Reception", Variable(document, "effective_caller_id_name"));
    }

    [Fact]
    public async Task Device_without_user_context_gets_the_configured_default()
    {
        var document = await _server.FetchAsync(Register("1002"));

        Assert.Equal("default", Variable(document, "user_context"));
        Assert.Equal(Md5("1002:127.0.0.1:Contoso-1002-secret"), Param(document, "a1-hash"));
    }

    [Fact]
    public async Task The_domain_field_and_not_the_realm_decides_the_hash_and_the_domain_element()
    {
        var document = await _server.FetchAsync(Register("1001").With("domain", "pbx.example.com").With("key_value", "realm.example.net"));

        Assert.Equal("pbx.example.com", document.Descendants("domain").Single().Attribute("name")!.Value);
        Assert.Equal(Md5("1001:pbx.example.com:Contoso-1001-secret"), Param(document, "a1-hash"));
    }

    [Theory]
    [InlineData("nobody")]
    [InlineData("2002")] // inactive device
    [InlineData("inactive-account")]
    [InlineData("deleted-account")]
    [InlineData("no-password")]
    [InlineData("broken-json")]
    [InlineData("")]
    public async Task Unknown_or_unusable_devices_get_not_found(string user)
    {
        Assert.True(IsNotFound(await _server.FetchAsync(Register(user))));
    }

    [Theory]
    [InlineData("1001' OR '1'='1")]
    [InlineData("1001\" OR \"1\"=\"1")]
    [InlineData("' UNION SELECT username FROM sip_devices -- ")]
    [InlineData("1001;DROP TABLE sip_devices")]
    [InlineData("%")]
    [InlineData("1001 ")]
    public async Task Injection_attempts_find_nobody(string user)
    {
        Assert.True(IsNotFound(await _server.FetchAsync(Register(user))));
        Assert.Equal(5L, await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM sip_devices WHERE id <= 5"));
    }

    [Fact]
    public async Task Device_of_an_ip_only_account_can_never_authenticate_by_password()
    {
        var document = await _server.FetchAsync(Register("3001"));

        Assert.Equal("true", Param(document, "sip-forbid-register"));
        Assert.NotEqual(Md5("3001:127.0.0.1:Tailspin-3001-secret"), Param(document, "a1-hash"));
        Assert.Null(Param(document, "password"));
        Assert.Empty(document.Descendants("variable"));
    }

    [Fact]
    public async Task Odd_values_come_back_intact_or_safely_replaced_and_never_as_expansions()
    {
        using var response = await _server.PostAsync(Register("odd"));
        var text = await response.Content.ReadAsStringAsync();
        FreeSwitchXml.AssertSurvivesPreprocessor(text);
        var document = System.Xml.Linq.XDocument.Parse(text);

        Assert.DoesNotContain("$", text);
        Assert.Equal(Md5("odd:127.0.0.1:" + DeviceAuthenticationFixture.OddPassword), Param(document, "a1-hash"));
        Assert.Equal("O'Brien <\"&\"> $${domain} ${system(rm)}\uFFFD\uFFFD X-PRE-PROCESS", Variable(document, "effective_caller_id_name"));
        // dir_vars cannot forge what FsDirectory sets itself.
        Assert.Equal("device", Variable(document, "fsdir_auth"));
        Assert.Equal("2000000022", Variable(document, "accountcode"));
        Assert.Single(document.Descendants("variable"), v => v.Attribute("name")!.Value == "accountcode");
    }

    [Theory]
    [InlineData("directory-gateways")]
    [InlineData("configuration-event_socket.conf")]
    public async Task Requests_that_are_not_served_get_not_found(string fixtureName)
    {
        Assert.True(IsNotFound(await _server.FetchAsync(FreeSwitchForm.Load(fixtureName))));
    }

    [Theory]
    [InlineData("message-count")]
    [InlineData("reverse-auth-lookup")]
    public async Task Other_directory_actions_get_not_found(string action)
    {
        Assert.True(IsNotFound(await _server.FetchAsync(Register("1001").With("action", action))));
    }

    [Fact]
    public async Task User_call_lookups_are_answered_like_sip_auth()
    {
        var document = await _server.FetchAsync(Register("1001").With("action", "user_call"));

        Assert.Equal(Md5("1001:127.0.0.1:Contoso-1001-secret"), Param(document, "a1-hash"));
    }

    [Fact]
    public async Task The_same_fields_as_a_get_query_string_work_too()
    {
        var form = FreeSwitchForm.Load("directory-sip_auth-register");
        var text = await _server.Client.GetStringAsync("/freeswitch?" + form.Body);

        Assert.Contains(Md5("1001:127.0.0.1:Contoso-1001-secret"), text);
    }

    [Fact]
    public async Task Passwords_and_hashes_are_never_logged()
    {
        await _server.FetchAsync(Register("1001"));
        await _server.FetchAsync(Register("odd"));

        Assert.DoesNotContain("Contoso-1001-secret", _server.Logs.All);
        Assert.DoesNotContain(Md5("1001:127.0.0.1:Contoso-1001-secret"), _server.Logs.All);
        Assert.DoesNotContain("3ea8cc738a8ec4fea7a6660c1b47165b", _server.Logs.All); // the digest response in the capture
    }
}

public sealed class PlaintextPasswordFixture : DemoServerFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["FreeSwitch:PasswordMode"] = "Plaintext" };
}

public sealed class PlaintextPasswordTests(PlaintextPasswordFixture fixture) : IClassFixture<PlaintextPasswordFixture>
{
    [Fact]
    public async Task Plaintext_mode_sends_the_password_param_instead_of_a1_hash()
    {
        var document = await fixture.Server.FetchAsync(FreeSwitchForm.Load("directory-sip_auth-register"));

        Assert.Equal("Contoso-1001-secret", Param(document, "password"));
        Assert.Null(Param(document, "a1-hash"));
    }
}
