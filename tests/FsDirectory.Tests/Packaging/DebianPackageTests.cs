using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Packaging;

/// <summary>
/// `make package`'s .deb as an operator meets it: lintian, the unit's verification and exposure, what it installs
/// and with which owners, the installed service started exactly as its unit starts it, fsdir on the PATH, and an
/// upgrade, a removal and a purge.
/// </summary>
[Collection(InstalledPackage.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DebianPackageTests(DebianPackageFixture package)
{
    private const string Settings = "/etc/fsdirectory/appsettings.json";
    private const string Secrets = "/etc/fsdirectory/fsdirectory.env";
    private const string AdminKey = "package-test-admin-key-0123456789";

    [Fact]
    public async Task Lintian_reports_no_errors()
    {
        var result = await Command.RunAsync("lintian", ["--no-tag-display-limit", package.Deb]);

        var errors = result.Output.Split('\n').Where(l => l.StartsWith("E:", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0, string.Join('\n', errors));
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task The_installed_unit_verifies_clean_and_its_exposure_is_at_most_two()
    {
        await package.EnsureInstalledAsync();

        var verify = await Command.RunAsync("systemd-analyze", ["verify", DebianPackageFixture.UnitPath]);
        Assert.True(verify.ExitCode == 0 && !verify.Errors.Contains("fsdirectory.service", StringComparison.Ordinal), verify.ToString());

        var security = await Command.RunAsync("systemd-analyze", ["security", "--offline=true", DebianPackageFixture.UnitPath]);
        var overall = security.Output.Split('\n').Single(l => l.Contains("Overall exposure level for fsdirectory.service", StringComparison.Ordinal));
        var exposure = double.Parse(overall.Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        Assert.True(exposure <= 2.0, security.Output);
    }

    [Fact]
    public async Task It_installs_the_service_the_sql_the_examples_and_settings_only_its_group_can_read()
    {
        await package.EnsureInstalledAsync();

        Assert.True(File.Exists("/usr/lib/fsdirectory/FsDirectory"));
        Assert.True(File.GetUnixFileMode("/usr/lib/fsdirectory/FsDirectory").HasFlag(UnixFileMode.OtherExecute));
        Assert.False(File.Exists("/usr/lib/fsdirectory/libcoreclrtraceptprovider.so"));
        Assert.True(File.Exists("/usr/bin/fsdir"));
        Assert.True(File.Exists("/usr/sbin/fsdirectory"));
        Assert.True(File.Exists("/usr/share/fsdirectory/sql/schema.sql"));
        Assert.Equal(
            System.IO.Directory.GetFiles(Paths.Sql("migrations"), "*.sql").Select(Path.GetFileName).Order(),
            System.IO.Directory.GetFiles("/usr/share/fsdirectory/sql/migrations", "*.sql").Select(Path.GetFileName).Order());
        Assert.True(File.Exists("/usr/share/doc/fsdirectory/examples/freeswitch-conf/autoload_configs/xml_curl.conf.xml"));

        var passwd = (await Command.CheckedAsync("getent", "passwd", "fsdirectory")).Trim().Split(':');
        Assert.True(int.Parse(passwd[2], CultureInfo.InvariantCulture) < 1000, "a system user");
        Assert.EndsWith("nologin", passwd[6], StringComparison.Ordinal);
        foreach (var file in new[] { Settings, Secrets })
        {
            Assert.Equal("root fsdirectory 640", (await Command.CheckedAsync("stat", "-c", "%U %G %a", file)).Trim());
        }

        var conffiles = await Command.CheckedAsync("dpkg-query", "-W", "-f", "${Conffiles}", DebianPackageFixture.Package);
        Assert.Contains(Settings, conffiles, StringComparison.Ordinal);
        Assert.Contains(Secrets, conffiles, StringComparison.Ordinal);
        // The package ships no secret: every setting in the environment file is commented out.
        Assert.Empty(InstalledUnit.ReadEnvironmentFile(Secrets));
    }

    [Fact]
    public async Task Without_a_connection_string_the_installed_service_exits_with_one_clear_line()
    {
        await package.EnsureInstalledAsync();
        var unit = InstalledUnit.Read(DebianPackageFixture.UnitPath);

        var result = await RunAsUnitAsync(unit, new Dictionary<string, string> { ["JOURNAL_STREAM"] = "8:1" }, TimeSpan.FromMinutes(1));

        Assert.Equal(78, result.ExitCode);
        var lines = (result.Output + result.Errors).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("<3>fsdirectory: ConnectionStrings:Default is not set", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_installed_service_started_as_its_unit_starts_it_reports_ready_and_answers_the_real_register_capture()
    {
        await package.EnsureInstalledAsync();
        await using var database = await TestDatabase.CreateAsync(seed: true);
        var unit = InstalledUnit.Read(DebianPackageFixture.UnitPath);
        var port = FsDirectoryProcess.FreePort();
        var original = await File.ReadAllTextAsync(Secrets);
        await File.WriteAllTextAsync(Secrets, $"""
            ConnectionStrings__Default={database.ConnectionString}
            Urls=http://127.0.0.1:{port}
            Admin__ApiKeys__0__Name=ops
            Admin__ApiKeys__0__Key={AdminKey}
            """);
        // The packaged wrapper runs migrate with the same settings and secrets as the unit: the stock client made this
        // database, so every file is applied once more (they are re-runnable) and recorded, and a second run has nothing to do.
        var migrated = await Command.RunAsync("/usr/sbin/fsdirectory", ["migrate"]);
        Assert.True(migrated.ExitCode == 0, migrated.ToString());
        var status = await Command.RunAsync("/usr/sbin/fsdirectory", ["migrate", "--status"]);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.DoesNotContain("pending", status.Output, StringComparison.Ordinal);
        Assert.Contains("/usr/share/fsdirectory/sql", status.Output + migrated.Output, StringComparison.Ordinal);

        var socketDirectory = System.IO.Directory.CreateTempSubdirectory("fsdir-notify-");
        try
        {
            File.SetUnixFileMode(socketDirectory.FullName, (UnixFileMode)0b111_111_111);
            var socketPath = Path.Combine(socketDirectory.FullName, "notify");
            using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            notify.Bind(new UnixDomainSocketEndPoint(socketPath));
            File.SetUnixFileMode(socketPath, (UnixFileMode)0b110_110_110);

            var environment = UnitEnvironment(unit);
            environment["NOTIFY_SOCKET"] = socketPath;
            environment["JOURNAL_STREAM"] = "8:1";
            using var service = StartAsUnit(unit, environment, out var log);
            try
            {
                var ready = await ReceiveAsync(notify, TimeSpan.FromMinutes(2), log);
                Assert.StartsWith("READY=1\nSTATUS=serving snapshot ", ready, StringComparison.Ordinal);

                using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
                using var form = new StringContent(await File.ReadAllTextAsync(Paths.FreeSwitchFixture("directory-sip_auth-register")), Encoding.UTF8, "application/x-www-form-urlencoded");
                using var response = await client.PostAsync(new Uri("/freeswitch", UriKind.Relative), form);
                var document = System.Xml.Linq.XDocument.Parse(await response.Content.ReadAsStringAsync());
                Assert.Equal("1001", document.Descendants("user").Single().Attribute("id")!.Value);
                Assert.Contains(document.Descendants("param"), p => (string?)p.Attribute("name") == "a1-hash");

                var listed = await Command.RunAsync("/usr/bin/fsdir", ["--url", $"http://127.0.0.1:{port}", "--api-key", AdminKey, "list"]);
                Assert.True(listed.ExitCode == 0, listed.ToString());
                Assert.Contains("192.0.2.10/32", listed.Output, StringComparison.Ordinal);
                Assert.Contains("Shared SBC Fabrikam", listed.Output, StringComparison.Ordinal);

                await Command.CheckedAsync("kill", "-TERM", service.Id.ToString(CultureInfo.InvariantCulture));
                Assert.Equal("STOPPING=1", await ReceiveAsync(notify, TimeSpan.FromSeconds(30), log));
                await service.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
                Assert.Equal(0, service.ExitCode);
                // Journald reads each line's priority from its prefix: one event per line.
                Assert.All(log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), l => Assert.Matches("^<[0-7]>", l));
                Assert.DoesNotContain(AdminKey, log.ToString(), StringComparison.Ordinal);
            }
            finally
            {
                if (!service.HasExited)
                {
                    service.Kill();
                }
            }
        }
        finally
        {
            await File.WriteAllTextAsync(Secrets, original);
            socketDirectory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task An_upgrade_keeps_an_edited_conffile_and_restarts_the_service_and_purge_removes_settings_and_user()
    {
        await DebianPackageFixture.PurgeAsync();
        await DebianPackageFixture.InstallAsync(package.OlderDeb);
        var edited = (await File.ReadAllTextAsync(Settings)).Replace("\"http://127.0.0.1:8080\"", "\"http://127.0.0.1:9999\"", StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:9999", edited, StringComparison.Ordinal);
        await File.WriteAllTextAsync(Settings, edited);

        await DebianPackageFixture.InstallAsync(package.Deb);

        Assert.Equal(edited, await File.ReadAllTextAsync(Settings));
        Assert.Equal("root fsdirectory 640", (await Command.CheckedAsync("stat", "-c", "%U %G %a", Settings)).Trim());
        // dh_installsystemd --restart-after-upgrade: the new version's postinst restarts the unit (a no-op here, where systemd is not PID 1).
        var postinst = await File.ReadAllTextAsync("/var/lib/dpkg/info/fsdirectory.postinst");
        Assert.Matches(@"deb-systemd-invoke \$_dh_action .*fsdirectory\.service", postinst);
        Assert.Contains("_dh_action=restart", postinst, StringComparison.Ordinal);

        Assert.Equal(0, (await Command.RunAsync("dpkg", ["--remove", DebianPackageFixture.Package])).ExitCode);
        Assert.Equal(edited, await File.ReadAllTextAsync(Settings));
        Assert.Equal(0, (await Command.RunAsync("getent", ["passwd", "fsdirectory"])).ExitCode);

        await DebianPackageFixture.PurgeAsync();
        Assert.False(System.IO.Directory.Exists("/etc/fsdirectory"));
        Assert.NotEqual(0, (await Command.RunAsync("getent", ["passwd", "fsdirectory"])).ExitCode);
        Assert.DoesNotContain("/etc/fsdirectory", await Command.CheckedAsync("dpkg-statoverride", "--list"), StringComparison.Ordinal);

        await package.EnsureInstalledAsync();
    }

    /// <summary>The unit's Environment= and its EnvironmentFile=, and nothing inherited from the test run.</summary>
    private static Dictionary<string, string> UnitEnvironment(InstalledUnit unit)
    {
        var environment = new Dictionary<string, string>(unit.Environment) { ["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin" };
        foreach (var (key, value) in InstalledUnit.ReadEnvironmentFile(unit.EnvironmentFile))
        {
            environment[key] = value;
        }

        return environment;
    }

    /// <summary>As the unit runs it: its user and group, no new privileges, no capabilities, its arguments.</summary>
    private static IEnumerable<string> UnitArguments(InstalledUnit unit) =>
        new[] { $"--reuid={unit.User}", $"--regid={unit.User}", "--init-groups", "--no-new-privs", "--bounding-set=-all", "--inh-caps=-all", "--" }
            .Concat(unit.ExecStart);

    private static Task<CommandResult> RunAsUnitAsync(InstalledUnit unit, Dictionary<string, string> extra, TimeSpan timeout)
    {
        var environment = UnitEnvironment(unit);
        foreach (var (key, value) in extra)
        {
            environment[key] = value;
        }

        return Command.RunAsync("setpriv", UnitArguments(unit), environment, unit.WorkingDirectory, timeout);
    }

    private static Process StartAsUnit(InstalledUnit unit, IReadOnlyDictionary<string, string> environment, out StringBuilder log)
    {
        var lines = new StringBuilder();
        var process = Process.Start(Command.StartInfo("setpriv", UnitArguments(unit), environment, unit.WorkingDirectory))!;
        process.OutputDataReceived += (_, e) => { lock (lines) { lines.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (lines) { lines.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        log = lines;
        return process;
    }

    private static async Task<string> ReceiveAsync(Socket socket, TimeSpan timeout, StringBuilder log)
    {
        var buffer = new byte[4096];
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            var count = await socket.ReceiveAsync(buffer, SocketFlags.None, cancel.Token);
            return Encoding.UTF8.GetString(buffer, 0, count);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no sd_notify message within {timeout}; the service's output:\n{log}");
        }
    }
}
