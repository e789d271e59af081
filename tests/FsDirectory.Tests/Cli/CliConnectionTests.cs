using System.Net;
using System.Runtime.Versioning;
using FsDirectory.Cli;

namespace FsDirectory.Tests.Cli;

/// <summary>
/// Where fsdir takes the URL and the key from: flags, then FSDIR_URL / FSDIR_API_KEY, then the user's config file,
/// then /etc/fsdirectory/fsdir.json. A handler stands in for the server and records where each request went.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class CliConnectionTests : IDisposable
{
    private readonly string _directory = System.IO.Directory.CreateTempSubdirectory("fsdir-config-").FullName;
    private readonly Dictionary<string, string?> _variables = new(StringComparer.Ordinal);
    private readonly Recorder _server = new();

    public CliConnectionTests() => _variables["HOME"] = Path.Combine(_directory, "home");

    private string UserFile => Path.Combine(_directory, "home", ".config", "fsdir", "config.json");

    private string SystemFile => Path.Combine(_directory, "etc", "fsdir.json");

    private CliEnvironment Environment => new(name => _variables.GetValueOrDefault(name), SystemFile);

    private static string Write(string path, string json, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    private static string Settings(string url, string key) => $$"""{"url": "{{url}}", "apiKey": "{{key}}"}""";

    /// <summary>The environment, the user's file and the system's file each name another service and key.</summary>
    private void EveryPlaceNamesTheService()
    {
        Write(UserFile, Settings("http://127.0.0.3:9003", "user-key"));
        Write(SystemFile, Settings("http://127.0.0.4:9004", "system-key"), UnixFileMode.UserRead | UnixFileMode.GroupRead);
        _variables["FSDIR_URL"] = "http://127.0.0.2:9002";
        _variables["FSDIR_API_KEY"] = "env-key";
    }

    private async Task<(int Exit, string Err)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliApp.RunAsync([.. args, "problems"], stdout, stderr, Environment, _server);
        return (exit, stderr.ToString());
    }

    [Fact]
    public async Task Flags_win_over_the_environment_and_both_config_files()
    {
        EveryPlaceNamesTheService();

        var (exit, err) = await RunAsync("--url", "http://127.0.0.1:9001", "--api-key", "flag-key");

        Assert.True(exit == CliApp.Ok, err);
        Assert.Equal(("http://127.0.0.1:9001/api/ip-settings/problems", "flag-key"), _server.Last);
    }

    [Fact]
    public async Task The_environment_wins_over_the_user_file_and_the_system_file()
    {
        EveryPlaceNamesTheService();

        await RunAsync();

        Assert.Equal(("http://127.0.0.2:9002/api/ip-settings/problems", "env-key"), _server.Last);
    }

    [Fact]
    public async Task The_user_file_wins_over_the_system_file_and_each_setting_falls_through_on_its_own()
    {
        Write(UserFile, """{"apiKey": "user-key"}""");
        Write(SystemFile, Settings("http://127.0.0.4:9004", "system-key"), UnixFileMode.UserRead | UnixFileMode.GroupRead);

        await RunAsync();
        Assert.Equal(("http://127.0.0.4:9004/api/ip-settings/problems", "user-key"), _server.Last);

        _variables["FSDIR_URL"] = "http://127.0.0.2:9002";
        await RunAsync();
        Assert.Equal(("http://127.0.0.2:9002/api/ip-settings/problems", "user-key"), _server.Last);

        await RunAsync("--api-key", "flag-key");
        Assert.Equal(("http://127.0.0.2:9002/api/ip-settings/problems", "flag-key"), _server.Last);
    }

    [Fact]
    public async Task The_system_file_is_read_when_nothing_else_names_the_service_and_without_any_file_the_default_is_used()
    {
        await RunAsync();
        Assert.Equal(("http://127.0.0.1:8080/api/ip-settings/problems", null), _server.Last);

        Write(SystemFile, Settings("http://127.0.0.4:9004", "system-key"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var (exit, err) = await RunAsync();
        Assert.True(exit == CliApp.Ok, err);
        Assert.Equal(("http://127.0.0.4:9004/api/ip-settings/problems", "system-key"), _server.Last);
    }

    [Fact]
    public async Task Xdg_config_home_moves_the_user_file_and_a_relative_one_is_ignored()
    {
        Write(UserFile, Settings("http://127.0.0.3:9003", "home-key"));
        Write(Path.Combine(_directory, "xdg", "fsdir", "config.json"), Settings("http://127.0.0.5:9005", "xdg-key"));

        _variables["XDG_CONFIG_HOME"] = Path.Combine(_directory, "xdg");
        await RunAsync();
        Assert.Equal(("http://127.0.0.5:9005/api/ip-settings/problems", "xdg-key"), _server.Last);

        _variables["XDG_CONFIG_HOME"] = "relative/xdg";
        await RunAsync();
        Assert.Equal(("http://127.0.0.3:9003/api/ip-settings/problems", "home-key"), _server.Last);
    }

    [Fact]
    public async Task The_config_flag_reads_only_the_named_file_and_a_missing_or_empty_name_is_a_usage_error()
    {
        Write(UserFile, Settings("http://127.0.0.3:9003", "user-key"));
        Write(SystemFile, Settings("http://127.0.0.4:9004", "system-key"), UnixFileMode.UserRead | UnixFileMode.GroupRead);
        var named = Write(Path.Combine(_directory, "named.json"), """{"url": "http://127.0.0.6:9006"}""");

        await RunAsync("--config", named);
        Assert.Equal(("http://127.0.0.6:9006/api/ip-settings/problems", null), _server.Last);

        _variables["FSDIR_API_KEY"] = "env-key";
        await RunAsync("--config", named);
        Assert.Equal(("http://127.0.0.6:9006/api/ip-settings/problems", "env-key"), _server.Last);

        var missing = Path.Combine(_directory, "missing.json");
        var (exit, err) = await RunAsync("--config", missing);
        Assert.Equal(CliApp.Usage, exit);
        Assert.Equal($"fsdir: {missing}: no such file\n", err);

        (exit, err) = await RunAsync("--config", string.Empty);
        Assert.Equal(CliApp.Usage, exit);
        Assert.Equal("fsdir: --config needs a file name\n", err);
    }

    [Fact]
    public async Task A_user_file_holding_a_key_that_group_or_others_can_read_is_refused_in_one_line()
    {
        var path = Write(UserFile, Settings("http://127.0.0.3:9003", "user-key"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var requests = _server.Count;

        var (exit, err) = await RunAsync();
        Assert.Equal(CliApp.Usage, exit);
        Assert.Equal($"fsdir: {path} holds an API key and is readable by group or others (mode 0604); run: chmod 600 {path}\n", err);

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.GroupRead);
        (exit, err) = await RunAsync("--config", path);
        Assert.Equal(CliApp.Usage, exit);
        Assert.Contains("(mode 0440)", err, StringComparison.Ordinal);
        Assert.Equal(requests, _server.Count);

        // Without a key there is nothing to protect: a shared file naming only the URL is fine.
        Write(path, """{"url": "http://127.0.0.3:9003"}""", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        (exit, err) = await RunAsync();
        Assert.True(exit == CliApp.Ok, err);
        Assert.Equal(("http://127.0.0.3:9003/api/ip-settings/problems", null), _server.Last);
    }

    [Fact]
    public async Task The_system_file_may_be_read_by_its_group_but_not_by_others()
    {
        var path = Write(SystemFile, Settings("http://127.0.0.4:9004", "system-key"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var (exit, err) = await RunAsync();
        Assert.True(exit == CliApp.Ok, err);

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        (exit, err) = await RunAsync();
        Assert.Equal(CliApp.Usage, exit);
        Assert.Equal($"fsdir: {path} holds an API key and is readable by others (mode 0644); run: chmod o-r {path}\n", err);
    }

    [Fact]
    public async Task A_config_file_with_a_misspelt_setting_or_broken_json_is_a_usage_error_naming_the_file()
    {
        var path = Write(UserFile, """{"url": "http://127.0.0.3:9003", "apikey": "user-key"}""");
        var (exit, err) = await RunAsync();
        Assert.Equal(CliApp.Usage, exit);
        Assert.Equal($"fsdir: {path}: unknown setting \"apikey\" (known: url, apiKey)\n", err);

        Write(path, """{"url": "http://127.0.0.3:9003",""");
        (exit, err) = await RunAsync();
        Assert.Equal(CliApp.Usage, exit);
        Assert.StartsWith($"fsdir: {path}: not valid JSON: ", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_reads_no_config_file()
    {
        Write(UserFile, "not json at all");
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        Assert.Equal(CliApp.Ok, await CliApp.RunAsync(["--help"], stdout, stderr, Environment, _server));
        Assert.Equal(CliApp.Help + "\n", stdout.ToString());
        Assert.Equal(0, _server.Count);
    }

    public void Dispose()
    {
        _server.Dispose();
        System.IO.Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Answers every request with an empty problems list and keeps the last URL and X-Api-Key.</summary>
    private sealed class Recorder : HttpMessageHandler
    {
        public (string Url, string? Key) Last { get; private set; }

        public int Count { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Count++;
            Last = (request.RequestUri!.ToString(), request.Headers.TryGetValues("X-Api-Key", out var keys) ? keys.Single() : null);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("[]") });
        }
    }
}
