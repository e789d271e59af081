using Dapper;
using FsDirectory.Migrations;
using FsDirectory.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using MySqlConnector;

namespace FsDirectory.Tests.Migrations;

public sealed record MigrateRun(int ExitCode, string Output, string Errors)
{
    public override string ToString() => $"exit {ExitCode}\n{Output}\n{Errors}";
}

/// <summary>Runs `fsdirectory migrate` in process, with only a connection string configured, as an operator's settings would.</summary>
public static class MigrateHarness
{
    public static Task<MigrateRun> RunAsync(TestDatabase database, string sqlDirectory, params string[] arguments) =>
        RunAsync(database.ConnectionString, sqlDirectory, arguments);

    public static async Task<MigrateRun> RunAsync(string connectionString, string sqlDirectory, params string[] arguments)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Default"] = connectionString })
            .Build();
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var code = await MigrateCommand.RunAsync(configuration, ["--sql", sqlDirectory, .. arguments], output, errors, CancellationToken.None);
        return new MigrateRun(code, output.ToString(), errors.ToString());
    }

    /// <summary>A writable copy of the shipped SQL (schema.sql and migrations/, not the demo seed), deleted on dispose.</summary>
    public static SqlCopy CopySql() => new();

    /// <summary>
    /// What a schema is, as information_schema tells it: tables, columns, indexes and triggers (with
    /// their bodies), plus the rows the migrations insert. The ledger is left out: the stock client
    /// keeps none. So is a trigger's client character set: the stock client run with --no-defaults
    /// (as the tests and scripts/mariadb.sh run it) talks utf8mb3, the driver utf8mb4 (as Debian's
    /// client configuration does); the trigger bodies are ASCII, so both mean the same.
    /// </summary>
    public static async Task<IReadOnlyList<string>> SchemaAsync(string connectionString)
    {
        const string Sql =
            """
            SELECT CONCAT_WS(' | ', 'table', TABLE_NAME, ENGINE, TABLE_COLLATION) FROM information_schema.TABLES
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> 'fsdir_schema_migrations'
            UNION ALL
            SELECT CONCAT_WS(' | ', 'column', TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, IFNULL(COLUMN_DEFAULT, 'no default'),
                   EXTRA, IFNULL(CHARACTER_SET_NAME, '-'), IFNULL(COLLATION_NAME, '-'), COLUMN_COMMENT) FROM information_schema.COLUMNS
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> 'fsdir_schema_migrations'
            UNION ALL
            SELECT CONCAT_WS(' | ', 'index', TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE) FROM information_schema.STATISTICS
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> 'fsdir_schema_migrations'
            UNION ALL
            SELECT CONCAT_WS(' | ', 'trigger', TRIGGER_NAME, EVENT_MANIPULATION, EVENT_OBJECT_TABLE, ACTION_TIMING, ACTION_ORDER, SQL_MODE,
                   DATABASE_COLLATION, ACTION_STATEMENT) FROM information_schema.TRIGGERS
             WHERE TRIGGER_SCHEMA = DATABASE()
            UNION ALL
            SELECT CONCAT_WS(' | ', 'row', 'fsdir_change_version', table_name, version) FROM fsdir_change_version
            UNION ALL
            SELECT CONCAT_WS(' | ', 'row', 'fsdir_lease', name, term) FROM fsdir_lease
            """;
        await using var connection = new MySqlConnection(connectionString);
        return [.. (await connection.QueryAsync<string>(Sql)).Order(StringComparer.Ordinal)];
    }

    public static Task<IReadOnlyList<LedgerRow>> LedgerAsync(TestDatabase database) =>
        database.QueryAsync<LedgerRow>(
            "SELECT name AS Name, checksum AS Checksum, state AS State, claimed_by AS ClaimedBy, db_user AS DbUser, claimed_at AS ClaimedAt, applied_at AS AppliedAt " +
            "FROM fsdir_schema_migrations ORDER BY name");

    /// <summary>The names `migrate` records for the shipped files, in the order it applies them.</summary>
    public static IReadOnlyList<string> ShippedNames { get; } = [.. MigrationFiles.Load(Paths.Sql("")).Select(static f => f.Name)];

    public sealed class SqlCopy : IDisposable
    {
        public SqlCopy()
        {
            System.IO.Directory.CreateDirectory(Path.Combine(Directory, "migrations"));
            File.Copy(Paths.Sql("schema.sql"), Path.Combine(Directory, "schema.sql"));
            foreach (var file in System.IO.Directory.GetFiles(Paths.Sql("migrations"), "*.sql"))
            {
                File.Copy(file, Path.Combine(Directory, "migrations", Path.GetFileName(file)));
            }
        }

        public string Directory { get; } = Path.Combine(Path.GetTempPath(), "fsdir-sql-" + Guid.NewGuid().ToString("N")[..10]);

        public string Migration(string fileName) => Path.Combine(Directory, "migrations", fileName);

        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
    }
}
