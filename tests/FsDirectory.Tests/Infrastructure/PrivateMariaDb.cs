namespace FsDirectory.Tests.Infrastructure;

/// <summary>
/// A MariaDB server of a test's own, started and stopped with scripts/mariadb.sh, for tests that
/// take the database away while the service runs. A restart keeps the port.
/// </summary>
public sealed class PrivateMariaDb : IAsyncDisposable
{
    private PrivateMariaDb(string directory, string server)
    {
        Directory = directory;
        Server = server;
    }

    public string Directory { get; }

    /// <summary>Connection string without a database (for <see cref="TestDatabase.CreateAsync"/>).</summary>
    public string Server { get; }

    public static async Task<PrivateMariaDb> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "fsdir-private-" + Guid.NewGuid().ToString("N")[..10]);
        await RunAsync("start", directory);
        var server = (await RunAsync("server", directory)).Trim();
        return new PrivateMariaDb(directory, server);
    }

    public Task StopAsync() => RunAsync("stop", Directory);

    public Task RestartAsync() => RunAsync("start", Directory);

    public async ValueTask DisposeAsync()
    {
        await RunAsync("reset", Directory);
    }

    private static Task<string> RunAsync(string command, string directory) => Scripts.RunAsync("mariadb.sh", command, directory);
}
