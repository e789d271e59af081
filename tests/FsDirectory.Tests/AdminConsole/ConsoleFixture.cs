using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using FsDirectory.Tests.Infrastructure;
using OpenQA.Selenium;

namespace FsDirectory.Tests.AdminConsole;

/// <summary>
/// The real service over a real MariaDB (demo seed plus a second reseller, a tie and a second profile), with
/// admin and reseller keys, and one headless Chromium for the whole collection.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    public const string AdminKey = "console-admin-key-0123456789";
    public const string ResellerKey = "console-reseller1-key-0123456789";
    public const string OtherResellerKey = "console-reseller9-key-0123456789";

    public TestDatabase Database { get; private set; } = null!;
    public FsDirectoryServer Server { get; private set; } = null!;
    public Browser Browser { get; private set; } = null!;

    /// <summary>A loopback port nothing listens on: the Event Socket node the status page shows as down.</summary>
    public int DeadSwitchPort { get; } = ClosedPort();

    public async Task InitializeAsync()
    {
        // Evidence of an earlier run must not be taken for this one's.
        if (System.IO.Directory.Exists(Browser.OutputDirectory))
        {
            System.IO.Directory.Delete(Browser.OutputDirectory, recursive: true);
        }

        // First, so that a missing browser fails the collection before anything else is started.
        Browser = Browser.Start();
        Database = await TestDatabase.CreateAsync(seed: true);
        await Database.ExecuteAsync(
            """
            INSERT INTO accounts (id, number, reseller_id, pricelist_id, status, type, deleted, company_name) VALUES
              (9, '5000000009', 0, 1, 0, 1, 0, 'Adatum Reseller'), (31, '3000000031', 9, 1, 0, 0, 0, 'Adatum Customer');
            INSERT INTO sip_profiles (id, name, sip_ip, sip_port, profile_data, status) VALUES (2, 'second', '', '5070', '{}', 0);
            INSERT INTO ip_map (id, name, ip, accountid, reseller_id, sip_profile_id, prefix, context, status) VALUES
              (40, 'tie first', '198.18.9.0/24', 2, 1, 0, '55', 'default', 0),
              (41, 'tie second', '198.18.9.0/24', 3, 1, 0, '55', 'default', 0),
              (46, 'Adatum PBX', '198.18.11.0/24', 31, 9, 0, '', 'default', 0);
            """);
        var settings = AdminKeys.Settings((AdminKey, "ops", null), (ResellerKey, "northwind", 1), (OtherResellerKey, "adatum", 9));
        settings["EventSocket:Nodes:0:Address"] = $"127.0.0.1:{DeadSwitchPort}";
        settings["EventSocket:Nodes:0:Password"] = "ClueCon";
        Server = await FsDirectoryServer.StartAsync(Database.ConnectionString, settings);
    }

    public async Task DisposeAsync()
    {
        Browser?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleInChromium : ICollectionFixture<ConsoleFixture>
{
    public const string Name = "Admin console in Chromium";
}

/// <summary>What every browser scenario does: evidence on failure, no CSP violation ever, and signing in.</summary>
public abstract class ConsoleScenarios(ConsoleFixture fixture)
{
    protected ConsoleFixture Fixture { get; } = fixture;
    protected Browser Browser => Fixture.Browser;
    /// <summary>The service the browser is pointed at: the collection's, unless a scenario class brings its own data.</summary>
    protected virtual FsDirectoryServer Server => Fixture.Server;
    protected TestDatabase Database => Fixture.Database;

    /// <summary>Runs a scenario: on failure the screenshot and HTML are saved; after it, the browser's log must hold no CSP violation.</summary>
    protected async Task Scenario(Func<Task> body, [CallerMemberName] string name = "")
    {
        Browser.TakeLog();
        Browser.Resize(Browser.Wide);
        try
        {
            await body();
            var violations = Browser.TakeLog().Where(l => l.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase) || l.Contains("Refused to", StringComparison.Ordinal)).ToList();
            Assert.True(violations.Count == 0, "CSP violations in the browser console:\n" + string.Join('\n', violations));
        }
        catch (Exception ex)
        {
            var evidence = Browser.SaveEvidence(name);
            throw new Xunit.Sdk.XunitException($"{ex.GetType().Name}: {ex.Message}\nScreenshot and HTML: {evidence}.png / {evidence}.html\n{ex.StackTrace}");
        }
    }

    protected void Scenario(Action body, [CallerMemberName] string name = "") =>
        Scenario(() => { body(); return Task.CompletedTask; }, name).GetAwaiter().GetResult();

    protected void Go(string path) => Browser.Driver.Navigate().GoToUrl(new Uri(Server.Address, path));

    protected string Path => new Uri(Browser.Driver.Url).PathAndQuery;

    /// <summary>A fresh session: the previous one's cookies are dropped, then the key is typed and the form sent.</summary>
    protected void LogIn(string key)
    {
        Browser.ClearCookies();
        Go("/console/login");
        Browser.Find("#key").SendKeys(key);
        Browser.ClickAndWait("form button[type=submit]");
        Assert.StartsWith("/console/ip-settings", Path, StringComparison.Ordinal);
    }

    protected void Select(string css, string value)
    {
        var select = Browser.Find(css);
        select.FindElement(By.CssSelector($"option[value='{value}']")).Click();
    }

    /// <summary>Types in the account search and picks the account once the matches for exactly this search have arrived.</summary>
    protected void PickAccount(string search, int accountId, string picker = "account")
    {
        Type($"#{picker}-search", search);
        Browser.WaitUntil(() => Browser.Text($"#{picker}-status").Contains($"“{search}”", StringComparison.Ordinal), $"the account search for {search}");
        Select($"#{picker}", accountId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(accountId.ToString(System.Globalization.CultureInfo.InvariantCulture), Browser.Find($"#{picker}").GetAttribute("value"));
    }

    protected void Type(string css, string text)
    {
        var input = Browser.Find(css);
        input.Clear();
        input.SendKeys(text);
    }

    protected string Notice => Browser.Exists(".notice") ? Browser.Text(".notice") : string.Empty;

    protected string Alert => string.Join('\n', Browser.FindAll(".error-box").Select(e => e.Text));
}
