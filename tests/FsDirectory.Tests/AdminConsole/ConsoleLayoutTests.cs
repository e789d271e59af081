using FsDirectory.Tests.Infrastructure;
using OpenQA.Selenium;

namespace FsDirectory.Tests.AdminConsole;

/// <summary>Widths, labels, keyboard, and the screenshots the README shows.</summary>
[Collection(ConsoleInChromium.Name)]
public sealed class ConsoleLayoutTests(ConsoleFixture fixture) : ConsoleScenarios(fixture)
{
    private static readonly string[] Pages =
    [
        "/console/ip-settings", "/console/ip-settings?sort=-name&pageSize=25", "/console/ip-settings/edit", "/console/ip-settings/edit/4",
        "/console/ip-settings/problems", "/console/ip-settings/csv", "/console/test-call?ip=203.0.113.10&number=12345678*12066418000&profile=default",
        "/console/accounts", "/console/settings/default-sip-profile?proposed=0", "/console/status",
    ];

    private const string Unlabelled = """
        return [...document.querySelectorAll('input, select, textarea, button')]
          .filter(e => e.type !== 'hidden' && !e.hidden && e.offsetParent !== null)
          .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby')
                       && !(e.tagName === 'BUTTON' && e.textContent.trim().length))
          .map(e => e.outerHTML);
        """;

    [Fact]
    public void Every_page_fits_390_and_1280_pixels_and_labels_every_input() => Scenario(() =>
    {
        foreach (var width in new[] { Browser.Narrow, Browser.Wide })
        {
            Browser.Resize(width);
            Browser.ClearCookies();
            Go("/console/login");
            Check("/console/login", width);
            LogIn(ConsoleFixture.AdminKey);
            foreach (var page in Pages)
            {
                Go(page);
                Check(page, width);
            }
        }
    });

    private void Check(string page, int width)
    {
        Assert.Equal(width, Browser.Script<long>("return window.innerWidth"));
        var overflow = Browser.Script<long>("return document.documentElement.scrollWidth - document.documentElement.clientWidth");
        Assert.True(overflow <= 0, $"{page} is {overflow} px wider than a {width} px window");
        var unlabelled = Browser.Script<IReadOnlyCollection<object>>(Unlabelled);
        Assert.True(unlabelled.Count == 0, $"{page} has inputs without a label: {string.Join(", ", unlabelled)}");
        Assert.Equal("en", Browser.Find("html").GetAttribute("lang"));
        Assert.NotEmpty(Browser.Text("h1"));

        // Every page at both widths, for a person to look at (test output only).
        var pages = System.IO.Directory.CreateDirectory(System.IO.Path.Combine(Browser.OutputDirectory, "pages")).FullName;
        var name = new string([.. page.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]).Trim('-');
        Browser.Driver.GetScreenshot().SaveAsFile(System.IO.Path.Combine(pages, $"{width}-{name}.png"));
    }

    [Fact]
    public void The_console_can_be_used_with_the_keyboard_alone() => Scenario(() =>
    {
        Browser.ClearCookies();
        Go("/console/login");
        var active = Browser.Driver.SwitchTo().ActiveElement();
        Assert.Equal("key", active.GetAttribute("id"));
        active.SendKeys(ConsoleFixture.AdminKey + Keys.Enter);
        Browser.WaitUntil(() => Path.StartsWith("/console/ip-settings", StringComparison.Ordinal), "the list after Enter");

        // The first Tab reaches the skip link, and Tab goes on through the page to the "New IP setting" link.
        Browser.Find("body").SendKeys(Keys.Tab);
        Assert.Equal("Skip to content", Browser.Driver.SwitchTo().ActiveElement().Text);
        for (var i = 0; i < 30 && Browser.Driver.SwitchTo().ActiveElement().Text != "New IP setting"; i++)
        {
            Browser.Driver.SwitchTo().ActiveElement().SendKeys(Keys.Tab);
        }

        var link = Browser.Driver.SwitchTo().ActiveElement();
        Assert.Equal("New IP setting", link.Text);
        link.SendKeys(Keys.Enter);
        Browser.WaitUntil(() => Path == "/console/ip-settings/edit", "the form after Enter");

        // In the account search, Enter searches and moves to the list of matches instead of sending the form.
        var search = Browser.Find("#account-search");
        search.SendKeys("Fabrikam" + Keys.Enter);
        Browser.WaitUntil(() => Browser.Driver.SwitchTo().ActiveElement().GetAttribute("id") == "account", "the focus on the account list");
        Browser.WaitUntil(() => Browser.Exists("#account option[value='3']"), "Fabrikam in the list");
        Browser.Driver.SwitchTo().ActiveElement().SendKeys(Keys.ArrowDown);
        Assert.Equal("3", Browser.Find("#account").GetAttribute("value"));
        Assert.Equal("/console/ip-settings/edit", Path);
    });

    /// <summary>The README's pictures: `make screenshots` sets FSDIR_SCREENSHOTS_DIR=docs; otherwise they go to the test output.</summary>
    [Fact]
    public void Screenshots_of_the_list_and_the_form_are_taken() => Scenario(() =>
    {
        var directory = Environment.GetEnvironmentVariable("FSDIR_SCREENSHOTS_DIR") is { Length: > 0 } configured
            ? System.IO.Path.GetFullPath(configured, Paths.Root)
            : Browser.OutputDirectory;
        System.IO.Directory.CreateDirectory(directory);
        LogIn(ConsoleFixture.AdminKey);

        // Tall enough for every rule of the fixture (the tie and the inactive rule included).
        Browser.Driver.Manage().Window.Size = new System.Drawing.Size(Browser.Wide, 1450);
        Go("/console/ip-settings");
        Browser.Find("tr[data-rule-id='4'] input[name=ids]").Click();
        Browser.Find("tr[data-rule-id='5'] input[name=ids]").Click();
        Save(directory, "console-list.png");

        Browser.Resize(Browser.Wide);
        Go("/console/ip-settings/edit");
        PickAccount("Tailspin", 4);
        Type("#Input_Name", "Tailspin SBC");
        Type("#Input_Ip", "sbc.tailspin.example");
        Type("#Input_Prefix", "4711*");
        Browser.ClickAndWait(".rule-form button[type=submit]");
        Assert.True(Browser.Exists("#Input_Ip-error"));
        Save(directory, "console-form.png");

        Browser.Resize(Browser.Narrow);
        Go("/console/ip-settings?q=Shared");
        Save(directory, "console-list-390.png");
    });

    private void Save(string directory, string name)
    {
        var file = System.IO.Path.Combine(directory, name);
        Browser.Driver.GetScreenshot().SaveAsFile(file);
        Assert.True(new FileInfo(file).Length > 10_000, $"{file} looks empty");
    }
}
