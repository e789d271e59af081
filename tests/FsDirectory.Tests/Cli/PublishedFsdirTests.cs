using System.Diagnostics;
using System.Runtime.Versioning;
using FsDirectory.Cli;
using FsDirectory.Tests.Admin;
using FsDirectory.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FsDirectory.Tests.Cli;

/// <summary>
/// fsdir as it ships: published once per run as a native (AOT) binary with the Makefile's command (`make fsdir`),
/// then run as a process against the real service, so trimming or a missing generated serializer shows up here.
/// </summary>
public sealed class PublishedFsdir : IAsyncLifetime
{
    /// <summary>Beside the tree's own obj/ (in .data/, git-ignored), so a test run leaves the build outputs as they were.</summary>
    private static readonly string Artifacts = Path.Combine(Paths.Root, ".data", "fsdir-test-publish");

    public static string Binary => Path.Combine(Artifacts, "out", "fsdir");

    public TimeSpan PublishTime { get; private set; }

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        var start = new ProcessStartInfo("dotnet",
            ["publish", Path.Combine(Paths.Root, "src", "FsDirectory.Cli", "FsDirectory.Cli.csproj"), "-c", "Release", "-r", "linux-x64", "--nologo",
             "--artifacts-path", Artifacts, "-o", Path.Combine(Artifacts, "out")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        // `dotnet test` hands its own MSBuild's location to the test host; a nested build must find its own SDK.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        var (exit, output, errors) = await Run.ProcessAsync(start, TimeSpan.FromMinutes(10));
        Assert.True(exit == 0, $"dotnet publish failed ({exit}):\n{output}\n{errors}");
        PublishTime = clock.Elapsed;
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

[SupportedOSPlatform("linux")]
public sealed class PublishedFsdirTests(PublishedFsdir fsdir, AdminApiFixture fixture, ITestOutputHelper log)
    : IClassFixture<PublishedFsdir>, IClassFixture<AdminApiFixture>, IDisposable
{
    private readonly string _home = System.IO.Directory.CreateTempSubdirectory("fsdir-home-").FullName;

    /// <summary>The binary with a clean environment: the URL and key come from the user's config file, as an operator sets them up.</summary>
    private async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo(PublishedFsdir.Binary, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment.Clear();
        start.Environment["HOME"] = _home;
        start.Environment["PATH"] = "/usr/bin:/bin";
        return await Run.ProcessAsync(start, TimeSpan.FromSeconds(30));
    }

    private async Task<(int Exit, string Out, string Err)> InProcessAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliApp.RunAsync(["--url", fixture.Server.Address.ToString(), "--api-key", AdminApiFixture.AdminKey, .. args], stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private void WriteUserConfig()
    {
        var path = Path.Combine(_home, ".config", "fsdir", "config.json");
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, $$"""{"url": "{{fixture.Server.Address}}", "apiKey": "{{AdminApiFixture.AdminKey}}"}""");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Fact]
    public async Task The_published_binary_prints_the_help_and_lists_rules_exactly_as_the_cli_does_in_process()
    {
        log.WriteLine($"dotnet publish (native AOT) took {fsdir.PublishTime.TotalSeconds:F1} s");

        var help = await RunAsync("--help");
        Assert.Equal((CliApp.Ok, CliApp.Help + "\n", string.Empty), help);

        WriteUserConfig();
        var list = await RunAsync("list", "--sort", "-id", "--page-size", "5");
        Assert.True(list.Exit == CliApp.Ok, list.Err);
        Assert.StartsWith("id\tstatus\taccount\treseller\tprofile\tip\tprefix\tcontext\tname\n", list.Out, StringComparison.Ordinal);
        Assert.Equal(await InProcessAsync("list", "--sort", "-id", "--page-size", "5"), list);

        var resolve = await RunAsync("resolve", "203.0.113.10", "12345678*5551234", "default", "--via", "127.0.0.46");
        Assert.Equal(await InProcessAsync("resolve", "203.0.113.10", "12345678*5551234", "default", "--via", "127.0.0.46"), resolve);
    }

    [Fact]
    public async Task The_published_binary_sends_request_bodies_and_reports_refusals_and_usage_errors()
    {
        WriteUserConfig();
        var (exit, added, err) = await RunAsync("proxy", "add", "--name", "aot kamailio", "--ip", "127.0.0.47", "--profile", "1", "--inactive");
        Assert.True(exit == CliApp.Ok, err);
        Assert.Contains("\"name\": \"aot kamailio\"", added, StringComparison.Ordinal);
        Assert.Contains("\"status\": 1", added, StringComparison.Ordinal);
        var id = System.Text.Json.JsonDocument.Parse(added).RootElement.GetProperty("id").GetInt32();
        Assert.Equal(CliApp.Ok, (await RunAsync("proxy", "delete", id.ToString(System.Globalization.CultureInfo.InvariantCulture))).Exit);

        (exit, _, err) = await RunAsync("add", "--name", "aot add", "--ip", "pbx.example.com", "--account", "4");
        Assert.Equal(CliApp.Refused, exit);
        Assert.Contains("hostname", err, StringComparison.Ordinal);

        (exit, _, err) = await RunAsync("enable", "x");
        Assert.Equal(CliApp.Usage, exit);
        Assert.StartsWith("fsdir: 'x' is not a rule id\n", err, StringComparison.Ordinal);

        File.SetUnixFileMode(Path.Combine(_home, ".config", "fsdir", "config.json"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        (exit, _, err) = await RunAsync("problems");
        Assert.Equal(CliApp.Usage, exit);
        Assert.Contains("holds an API key and is readable by group or others (mode 0640)", err, StringComparison.Ordinal);
    }

    public void Dispose() => System.IO.Directory.Delete(_home, recursive: true);
}

internal static class Run
{
    public static async Task<(int Exit, string Out, string Err)> ProcessAsync(ProcessStartInfo start, TimeSpan budget)
    {
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(budget);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} ran longer than {budget}");
        }

        return (process.ExitCode, await output, await errors);
    }
}
