using System.Collections.ObjectModel;
using System.Drawing;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace FsDirectory.Tests.AdminConsole;

/// <summary>
/// Debian's headless Chromium driven through Debian's chromedriver (no Selenium Manager, no download), kept to
/// loopback: background networking off, and every host name but the loopback ones resolves to nothing.
/// One per test collection; a failing scenario leaves a screenshot and the page's HTML in the test output.
/// </summary>
public sealed class Browser : IDisposable
{
    public const int Wide = 1280;
    public const int Narrow = 390;

    private readonly string _profile;

    private Browser(ChromeDriver driver, string profile, string downloads)
    {
        Driver = driver;
        _profile = profile;
        Downloads = downloads;
    }

    public ChromeDriver Driver { get; }

    /// <summary>Where downloads (the CSV export) land.</summary>
    public string Downloads { get; }

    public static string ChromiumPath => Environment.GetEnvironmentVariable("FSDIR_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static string DriverPath => Environment.GetEnvironmentVariable("FSDIR_CHROMEDRIVER") is { Length: > 0 } path ? path : "/usr/bin/chromedriver";

    /// <summary>Failure screenshots and page HTML, and the console screenshots: under the test output directory.</summary>
    public static string OutputDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "console-browser");

    /// <summary>Starts Chromium; <paramref name="extraArguments"/> are added to its command line.</summary>
    public static Browser Start(params string[] extraArguments)
    {
        foreach (var (path, package) in new[] { (ChromiumPath, "chromium"), (DriverPath, "chromium-driver") })
        {
            if (!File.Exists(path))
            {
                // Never skipped: without a browser the console is not proven, so the suite fails.
                throw new InvalidOperationException(
                    $"{path} ({package}) is missing. `make test` installs it when run as root; otherwise run: sudo apt-get install -y --no-install-recommends chromium chromium-driver");
            }
        }

        // Selenium Manager is never needed (the driver and browser are given) and must not phone home.
        Environment.SetEnvironmentVariable("SE_AVOID_STATS", "true");
        Environment.SetEnvironmentVariable("SE_OFFLINE", "true");
        var profile = System.IO.Directory.CreateTempSubdirectory("fsdir-chromium-").FullName;
        var downloads = System.IO.Directory.CreateDirectory(Path.Combine(profile, "downloads")).FullName;
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        options.AddArguments(
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", "--no-default-browser-check",
            "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability", "--disable-client-side-phishing-detection",
            "--disable-features=Translate,OptimizationHints,MediaRouter,InterestFeedContentSuggestions,AutofillServerCommunication",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            "--password-store=basic", "--lang=en-US", $"--user-data-dir={profile}", $"--window-size={Wide},900");
        options.AddArguments(extraArguments);
        options.AddUserProfilePreference("download.default_directory", downloads);
        options.AddUserProfilePreference("download.prompt_for_download", false);
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(30);
        driver.Manage().Timeouts().AsynchronousJavaScript = TimeSpan.FromSeconds(10);
        return new Browser(driver, profile, downloads);
    }

    /// <summary>Drops every cookie (the session, antiforgery and notice cookies are HttpOnly and scoped to /console).</summary>
    public void ClearCookies() => Driver.ExecuteCdpCommand("Network.clearBrowserCookies", []);

    public void Resize(int width) => Driver.Manage().Window.Size = new Size(width, width == Narrow ? 844 : 900);

    public IWebElement Find(string css) => Driver.FindElement(By.CssSelector(css));

    public ReadOnlyCollection<IWebElement> FindAll(string css) => Driver.FindElements(By.CssSelector(css));

    public string Text(string css) => Find(css).Text;

    public bool Exists(string css) => Driver.FindElements(By.CssSelector(css)).Count > 0;

    public T Script<T>(string script, params object[] args) => (T)Driver.ExecuteScript(script, args)!;

    /// <summary>The status of a GET from inside the page (same cookies, same origin): what a crafted URL would get.</summary>
    public long FetchStatus(string path) =>
        (long)Driver.ExecuteAsyncScript("const done = arguments[arguments.length - 1]; fetch(arguments[0], { redirect: 'manual' }).then(r => done(r.status), () => done(-1));", path)!;

    /// <summary>Clicks something that loads a new page and waits until the old one is gone and the new one has loaded.</summary>
    public void ClickAndWait(IWebElement element)
    {
        var old = Driver.FindElement(By.TagName("html"));
        element.Click();
        // Generous: the shared CI machine may be busy; a scenario that works is never slowed by it.
        WaitUntil(() => IsStale(old), "the next page to load", 30);
        WaitUntil(() => Script<string>("return document.readyState") == "complete", "the page to finish loading", 30);
    }

    public void ClickAndWait(string css) => ClickAndWait(Find(css));

    public void WaitUntil(Func<bool> condition, string what, double seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            try
            {
                if (condition())
                {
                    return;
                }
            }
            catch (WebDriverException)
            {
                // The page is changing under us: look again.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waited {seconds} s for {what}; the page is {Driver.Url}");
            }

            Thread.Sleep(50);
        }
    }

    private static bool IsStale(IWebElement element)
    {
        try
        {
            _ = element.Enabled;
            return false;
        }
        catch (StaleElementReferenceException)
        {
            return true;
        }
    }

    /// <summary>Console messages Chromium logged since the last call: CSP violations show up here.</summary>
    public IReadOnlyList<string> TakeLog() =>
        [.. Driver.Manage().Logs.GetLog(LogType.Browser).Select(e => $"{e.Level}: {e.Message}")];

    /// <summary>Saves what the browser shows and the page's HTML, named after the scenario.</summary>
    public string SaveEvidence(string name)
    {
        System.IO.Directory.CreateDirectory(OutputDirectory);
        var stem = Path.Combine(OutputDirectory, name);
        try
        {
            Driver.GetScreenshot().SaveAsFile(stem + ".png");
            File.WriteAllText(stem + ".html", $"<!-- {Driver.Url} -->\n" + Driver.PageSource);
        }
        catch (WebDriverException ex)
        {
            File.WriteAllText(stem + ".txt", ex.ToString());
        }

        return stem;
    }

    public void Dispose()
    {
        try
        {
            Driver.Quit();
        }
        finally
        {
            Driver.Dispose();
            try
            {
                System.IO.Directory.Delete(_profile, recursive: true);
            }
            catch (IOException)
            {
                // Chromium may still be writing its profile as it exits; the temp directory is cleaned up later.
            }
        }
    }
}
