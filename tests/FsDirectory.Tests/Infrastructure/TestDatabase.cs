using System.Diagnostics;
using Dapper;
using MySqlConnector;

namespace FsDirectory.Tests.Infrastructure;

/// <summary>
/// A throwaway database on the MariaDB server that `make test` provisions (FSDIR_TEST_MARIADB).
/// SQL files are applied with the stock mariadb client, exactly as a DBA applies them. There is no
/// fallback: without the server every database test fails.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private static readonly string[] ClientPaths = ["/usr/bin/mariadb", "/usr/bin/mysql"];

    private TestDatabase(string server, string name)
    {
        Server = server;
        Name = name;
        ConnectionString = new MySqlConnectionStringBuilder(server) { Database = name, TreatTinyAsBoolean = false }.ConnectionString;
    }

    public string Server { get; }
    public string Name { get; }
    public string ConnectionString { get; }

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("FSDIR_TEST_MARIADB") is { Length: > 0 } server
            ? server
            : throw new InvalidOperationException(
                "FSDIR_TEST_MARIADB is not set: run the suite with `make test`, which provisions a throwaway MariaDB. Database tests never skip.");

    /// <summary>Fresh schema + migrations (+ the demo seed when asked), on the shared test server or the one given.</summary>
    public static async Task<TestDatabase> CreateAsync(bool seed = true, string? server = null)
    {
        var db = await CreateEmptyAsync(server);
        await db.ApplyFileAsync(Paths.Sql("schema.sql"));
        await db.ApplyMigrationsAsync();
        if (seed)
        {
            await db.ApplyFileAsync(Paths.Sql("seed-demo.sql"));
        }

        return db;
    }

    public static async Task<TestDatabase> CreateEmptyAsync(string? server = null)
    {
        server ??= ServerConnectionString;
        var name = "fsdir_t_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new MySqlConnection(server);
        await connection.OpenAsync();
        await connection.ExecuteAsync($"CREATE DATABASE `{name}` CHARACTER SET utf8mb4");
        return new TestDatabase(server, name);
    }

    /// <summary>Every migration in name order, through this database's server or (a cluster node) <paramref name="through"/>.</summary>
    public async Task ApplyMigrationsAsync(string? through = null)
    {
        foreach (var file in System.IO.Directory.GetFiles(Paths.Sql("migrations"), "*.sql").Order(StringComparer.Ordinal))
        {
            await ApplyFileAsync(file, through);
        }
    }

    /// <summary>Runs `mariadb DB &lt; file` and fails the test with the client's error output.</summary>
    public async Task ApplyFileAsync(string file, string? through = null)
    {
        var builder = new MySqlConnectionStringBuilder(through ?? Server);
        var client = ClientPaths.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("the mariadb client is not installed");
        var start = new ProcessStartInfo(client)
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            ArgumentList =
            {
                "--no-defaults", "--protocol=TCP", $"--host={builder.Server}", $"--port={builder.Port}",
                $"--user={builder.UserID}", $"--password={builder.Password}", Name,
            },
        };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(await File.ReadAllTextAsync(file));
        process.StandardInput.Close();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"mariadb < {Path.GetFileName(file)} failed ({process.ExitCode}): {errors}");
        }
    }

    public async Task<int> ExecuteAsync(string sql, object? parameters = null)
    {
        await using var connection = new MySqlConnection(ConnectionString);
        return await connection.ExecuteAsync(sql, parameters);
    }

    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new MySqlConnection(ConnectionString);
        return (await connection.QueryAsync<T>(sql, parameters)).AsList();
    }

    public async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new MySqlConnection(ConnectionString);
        return await connection.ExecuteScalarAsync<T>(sql, parameters) ?? throw new InvalidOperationException("no value");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var connection = new MySqlConnection(Server);
            await connection.OpenAsync();
            await connection.ExecuteAsync($"DROP DATABASE IF EXISTS `{Name}`");
        }
        catch (MySqlException)
        {
            // The server may be stopped by an outage test; `make test` deletes it afterwards anyway.
        }
    }
}
