using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Packaging;

/// <summary>
/// The Debian package, built once per run with `scripts/package.sh build` (debian/, dh, dh_installsystemd) from this
/// checkout, plus a copy relabelled with a lower version for the upgrade. Installed on this machine with dpkg (the
/// suite runs as root, as CI does) and purged afterwards. systemd is not PID 1 here, so the tests start the
/// installed unit's command themselves, as the unit would.
/// </summary>
public sealed class DebianPackageFixture : IAsyncLifetime
{
    public const string Package = "fsdirectory";
    public const string UnitPath = "/lib/systemd/system/fsdirectory.service";

    public string Deb { get; private set; } = string.Empty;
    public string OlderDeb { get; private set; } = string.Empty;
    public string Version { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        if (Environment.UserName != "root")
        {
            // Never skipped: the package is part of the product. `make test` runs as root on CI.
            throw new InvalidOperationException("the Debian package tests install the package with dpkg: run the suite as root (as CI does)");
        }

        var output = Path.Combine(Paths.Root, ".data", "test-package");
        Deb = (await Scripts.RunAsync("package.sh", "build", output)).Trim().Split('\n')[^1];
        Deb = Path.GetFullPath(Deb, Paths.Root);
        Version = (await Command.CheckedAsync("dpkg-deb", "--field", Deb, "Version")).Trim();
        OlderDeb = await RelabelAsync(Deb, "0.9.0", output);
        await PurgeAsync();
        await InstallAsync(Deb);
    }

    public Task DisposeAsync() => PurgeAsync();

    public static Task InstallAsync(string deb) => Command.CheckedAsync("dpkg", "--force-confold", "-i", deb);

    public static async Task PurgeAsync()
    {
        var result = await Command.RunAsync("dpkg", ["--purge", Package]);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    /// <summary>Installs the package built by this run unless that version is already installed.</summary>
    public async Task EnsureInstalledAsync()
    {
        var status = await Command.RunAsync("dpkg-query", ["-W", "-f", "${Status} ${Version}", Package]);
        if (status.ExitCode != 0 || status.Output != $"install ok installed {Version}")
        {
            await InstallAsync(Deb);
        }
    }

    /// <summary>The same files and scripts under another version: what an operator has installed before an upgrade.</summary>
    private static async Task<string> RelabelAsync(string deb, string version, string output)
    {
        var tree = Path.Combine(output, "relabel");
        if (System.IO.Directory.Exists(tree))
        {
            System.IO.Directory.Delete(tree, recursive: true);
        }

        await Command.CheckedAsync("dpkg-deb", "-R", deb, tree);
        var control = Path.Combine(tree, "DEBIAN", "control");
        var lines = (await File.ReadAllLinesAsync(control)).Select(l => l.StartsWith("Version:", StringComparison.Ordinal) ? "Version: " + version : l);
        await File.WriteAllLinesAsync(control, lines);
        var older = Path.Combine(output, $"fsdirectory_{version}_amd64.deb");
        await Command.CheckedAsync("dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "-b", tree, older);
        System.IO.Directory.Delete(tree, recursive: true);
        return older;
    }
}

[CollectionDefinition(Name)]
public sealed class InstalledPackage : ICollectionFixture<DebianPackageFixture>
{
    public const string Name = "Debian package";
}

/// <summary>The installed unit's settings that decide how its command runs.</summary>
public sealed record InstalledUnit(string User, string WorkingDirectory, string EnvironmentFile, IReadOnlyDictionary<string, string> Environment, IReadOnlyList<string> ExecStart)
{
    public static InstalledUnit Read(string path)
    {
        var lines = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        string Single(string key) => lines.Single(l => l.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..];
        var environment = lines.Where(l => l.StartsWith("Environment=", StringComparison.Ordinal))
            .SelectMany(l => l["Environment=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1]);
        return new InstalledUnit(Single("User"), Single("WorkingDirectory"), Single("EnvironmentFile").TrimStart('-'), environment,
            Single("ExecStart").Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>KEY=VALUE lines as systemd's EnvironmentFile= reads them (comments and blank lines skipped).</summary>
    public static Dictionary<string, string> ReadEnvironmentFile(string path) =>
        File.ReadAllLines(path).Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith(';') && l.Contains('=', StringComparison.Ordinal))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1]);
}
