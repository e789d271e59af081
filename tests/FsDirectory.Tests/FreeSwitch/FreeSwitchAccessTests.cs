using System.Net;
using System.Text;
using FsDirectory.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.FreeSwitch;

public sealed class CredentialsRequiredFixture : DemoServerFixture
{
    public const string Username = "freeswitch";
    public const string Password = "gw-Pass:w0rd-7f3a";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["FreeSwitch:Access:Username"] = Username,
        ["FreeSwitch:Access:Password"] = Password,
        ["FreeSwitch:Access:AllowedNetworks:0"] = "127.0.0.0/8",
        ["FreeSwitch:Access:AllowedNetworks:1"] = "::1",
    };
}

public sealed class ForeignNetworksOnlyFixture : DemoServerFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["FreeSwitch:Access:AllowedNetworks:0"] = "10.0.0.0/8",
        ["FreeSwitch:Access:AllowedNetworks:1"] = "2001:db8::/32",
    };
}

public sealed class FreeSwitchCredentialsTests(CredentialsRequiredFixture fixture) : IClassFixture<CredentialsRequiredFixture>
{
    private readonly FsDirectoryServer _server = fixture.Server;

    private async Task<HttpResponseMessage> PostAsync(string? authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/freeswitch") { Content = FreeSwitchForm.Load("directory-sip_auth-register").ToContent() };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return await _server.Client.SendAsync(request);
    }

    private static string Basic(string userAndPassword) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(userAndPassword));

    [Fact]
    public async Task Gateway_credentials_as_mod_xml_curl_sends_them_get_the_device_answer()
    {
        using var response = await PostAsync(Basic($"{CredentialsRequiredFixture.Username}:{CredentialsRequiredFixture.Password}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        AssertSurvivesPreprocessor(text);
        Assert.Equal("1001", System.Xml.Linq.XDocument.Parse(text).Descendants("user").Single().Attribute("id")!.Value);
    }

    [Fact]
    public async Task Fetch_without_credentials_gets_401_with_a_basic_challenge()
    {
        using var response = await PostAsync(null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Basic", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.DoesNotContain("a1-hash", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("freeswitch:wrong-password-9b1c")]
    [InlineData("freeswitch:gw-Pass:w0rd-7f3")]
    [InlineData("freeswitch:gw-Pass:w0rd-7f3a ")]
    [InlineData("FREESWITCH:gw-Pass:w0rd-7f3a")]
    [InlineData("other:gw-Pass:w0rd-7f3a")]
    [InlineData(":")]
    public async Task Wrong_credentials_get_401_and_neither_password_is_logged(string presented)
    {
        using var response = await PostAsync(Basic(presented));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var logs = _server.Logs.All;
        Assert.Contains("refused with 401 (credentials presented: True)", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(CredentialsRequiredFixture.Password, logs, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password-9b1c", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(presented)), logs, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Basic !!!not-base64")]
    [InlineData("Bearer abc")]
    [InlineData("Basic ")]
    public async Task Malformed_authorization_header_gets_401_not_500(string header)
    {
        using var response = await PostAsync(header);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Health_endpoints_stay_open_without_credentials()
    {
        using var response = await _server.Client.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

public sealed class FreeSwitchNetworkAllowListTests(ForeignNetworksOnlyFixture fixture) : IClassFixture<ForeignNetworksOnlyFixture>
{
    private readonly FsDirectoryServer _server = fixture.Server;

    [Fact]
    public async Task Fetch_from_an_address_outside_the_allowed_networks_gets_403_and_is_logged_with_the_address()
    {
        using var response = await _server.PostAsync(FreeSwitchForm.Load("directory-sip_auth-register"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain("a1-hash", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("FreeSWITCH fetch from 127.0.0.1 refused with 403", _server.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_string_fetch_from_outside_is_refused_as_well()
    {
        using var response = await _server.Client.GetAsync("/freeswitch?section=configuration&key_value=acl.conf");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}

public sealed class FreeSwitchAccessValidationTests
{
    [Theory]
    [InlineData("FreeSwitch:Access:AllowedNetworks:0", "10.0.0.0/33")]
    [InlineData("FreeSwitch:Access:AllowedNetworks:0", "fe80::1%eth0")]
    [InlineData("FreeSwitch:Access:AllowedNetworks:0", "not-a-network")]
    [InlineData("FreeSwitch:Access:Username", "user-without-password")]
    [InlineData("FreeSwitch:Access:Password", "password-without-user")]
    public async Task Invalid_access_settings_stop_the_service_at_start(string key, string value)
    {
        var settings = new Dictionary<string, string?> { [key] = value };

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            FsDirectoryServer.StartAsync("Server=127.0.0.1;Port=1;User ID=x;Password=y;Database=none", settings, waitForData: false));

        Assert.Contains("FreeSwitch:Access", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("password-without-user", error.Message, StringComparison.Ordinal);
    }
}
