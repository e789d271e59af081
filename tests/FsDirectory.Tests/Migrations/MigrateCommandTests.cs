using System.Diagnostics;
using System.Security.Cryptography;
using FsDirectory.Migrations;
using FsDirectory.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using static FsDirectory.Tests.Migrations.MigrateHarness;

namespace FsDirectory.Tests.Migrations;

/// <summary>`fsdirectory migrate` against the test MariaDB, each test on databases of its own.</summary>
public sealed class MigrateCommandTests
{
    private const string NewMigration = "900_test_addition.sql";
    private const string NewMigrationSql = "CREATE TABLE IF NOT EXISTS `fsdir_test_addition` (`id` int NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB;\n";

    private static string ShippedSql => Paths.Sql("");

    /// <summary>schema.sql and every shipped migration: what a full run applies.</summary>
    private static int ShippedFiles => 1 + System.IO.Directory.GetFiles(Paths.Sql("migrations"), "*.sql").Length;

    [Fact]
    public async Task On_an_empty_database_it_applies_the_schema_and_every_migration_and_gives_the_schema_the_stock_client_gives()
    {
        await using var migrated = await TestDatabase.CreateEmptyAsync();
        await using var byClient = await TestDatabase.CreateAsync(seed: false);

        var run = await RunAsync(migrated, ShippedSql);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.All(ShippedNames, name => Assert.Contains($"applied   {name} (", run.Output, StringComparison.Ordinal));
        Assert.Equal(await SchemaAsync(byClient.ConnectionString), await SchemaAsync(migrated.ConnectionString));
        Assert.Equal(["utf8mb4"], await migrated.QueryAsync<string>(
            "SELECT DISTINCT CHARACTER_SET_CLIENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"));
        var ledger = await LedgerAsync(migrated);
        Assert.Equal(ShippedNames.Order(StringComparer.Ordinal), ledger.Select(static r => r.Name));
        Assert.All(ledger, static row =>
        {
            Assert.Equal(LedgerRow.Applied, row.State);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Paths.Sql(row.Name)))), row.Checksum);
            Assert.NotNull(row.AppliedAt);
            Assert.StartsWith("fsdir@", row.DbUser, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task A_second_run_applies_nothing_and_leaves_the_schema_and_the_ledger_as_they_were()
    {
        await using var database = await TestDatabase.CreateEmptyAsync();
        Assert.Equal(0, (await RunAsync(database, ShippedSql)).ExitCode);
        var schema = await SchemaAsync(database.ConnectionString);
        var ledger = await LedgerAsync(database);

        var second = await RunAsync(database, ShippedSql);

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.DoesNotContain("applied   ", second.Output, StringComparison.Ordinal);
        Assert.Contains($"up to date: all {ShippedFiles} files applied", second.Output, StringComparison.Ordinal);
        Assert.Equal(schema, await SchemaAsync(database.ConnectionString));
        Assert.Equal(ledger, await LedgerAsync(database));
    }

    [Fact]
    public async Task Three_runs_started_at_once_apply_each_file_once_all_succeed_and_give_the_stock_clients_schema()
    {
        await using var database = await TestDatabase.CreateEmptyAsync();
        await using var byClient = await TestDatabase.CreateAsync(seed: false);

        // Three runs, each with its own connections, as three hosts would start them.
        var runs = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => RunAsync(database, ShippedSql))));

        Assert.All(runs, static run => Assert.True(run.ExitCode == 0, run.ToString()));
        foreach (var name in ShippedNames)
        {
            Assert.Equal(1, runs.Count(run => run.Output.Contains($"applied   {name} (", StringComparison.Ordinal)));
        }

        Assert.Equal(ShippedNames.Order(StringComparer.Ordinal), (await LedgerAsync(database)).Select(static r => r.Name));
        Assert.Equal(await SchemaAsync(byClient.ConnectionString), await SchemaAsync(database.ConnectionString));
    }

    [Fact]
    public async Task On_astpp_tables_schema_sql_changes_nothing_and_the_result_is_what_the_stock_client_gives()
    {
        await using var migrated = await TestDatabase.CreateEmptyAsync();
        await using var byClient = await TestDatabase.CreateEmptyAsync();
        var astpp = Path.Combine(Paths.Shared, "fixtures", "astpp", "astpp-6.0-tables.sql");
        await migrated.ApplyFileAsync(astpp);
        await byClient.ApplyFileAsync(astpp);
        await byClient.ApplyMigrationsAsync();

        var run = await RunAsync(migrated, ShippedSql);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("applied   schema.sql (", run.Output, StringComparison.Ordinal);
        Assert.Equal(await SchemaAsync(byClient.ConnectionString), await SchemaAsync(migrated.ConnectionString));
        // ASTPP's own columns are all still there: schema.sql's reduced tables did not replace them.
        Assert.Equal(1L, await migrated.ScalarAsync<long>(
            "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'accounts' AND COLUMN_NAME = 'balance'"));
    }

    [Fact]
    public async Task An_applied_migration_whose_file_changed_is_refused_by_name_with_exit_1_and_nothing_is_applied()
    {
        await using var database = await TestDatabase.CreateEmptyAsync();
        using var sql = CopySql();
        Assert.Equal(0, (await RunAsync(database, sql.Directory)).ExitCode);
        await File.AppendAllTextAsync(sql.Migration("003_accounts_sip_credentials_disabled.sql"), "-- edited after it was applied\n");
        await File.WriteAllTextAsync(sql.Migration(NewMigration), NewMigrationSql);

        var run = await RunAsync(database, sql.Directory);
        var dryRun = await RunAsync(database, sql.Directory, "--dry-run");
        var status = await RunAsync(database, sql.Directory, "--status");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("refused: an applied file has changed", run.Errors, StringComparison.Ordinal);
        Assert.Contains("migrations/003_accounts_sip_credentials_disabled.sql: applied", run.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("applied   ", run.Output, StringComparison.Ordinal);
        Assert.Equal(0L, await TableCountAsync(database, "fsdir_test_addition"));
        Assert.DoesNotContain(await LedgerAsync(database), static r => r.Name == "migrations/" + NewMigration);
        Assert.Equal(1, dryRun.ExitCode);
        Assert.Contains("migrations/003_accounts_sip_credentials_disabled.sql", dryRun.Errors, StringComparison.Ordinal);
        Assert.Equal(1, status.ExitCode);
        Assert.Contains("CHANGED   migrations/003_accounts_sip_credentials_disabled.sql", status.Output, StringComparison.Ordinal);
        Assert.Contains($"pending   migrations/{NewMigration}", status.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_and_dry_run_say_what_would_run_and_change_nothing()
    {
        await using var database = await TestDatabase.CreateEmptyAsync();
        using var sql = CopySql();

        var emptyStatus = await RunAsync(database, sql.Directory, "--status");
        var emptyDryRun = await RunAsync(database, sql.Directory, "--dry-run");

        Assert.Equal(0, emptyStatus.ExitCode);
        Assert.All(ShippedNames, name => Assert.Contains($"pending   {name}", emptyStatus.Output, StringComparison.Ordinal));
        Assert.Equal(0, emptyDryRun.ExitCode);
        Assert.All(ShippedNames, name => Assert.Contains($"would apply  {name} (", emptyDryRun.Output, StringComparison.Ordinal));
        Assert.Contains("would apply  migrations/004_change_tracking.sql (20 statements)", emptyDryRun.Output, StringComparison.Ordinal);
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"));

        Assert.Equal(0, (await RunAsync(database, sql.Directory)).ExitCode);
        await File.WriteAllTextAsync(sql.Migration(NewMigration), NewMigrationSql);
        // A file a newer version applied, which this SQL folder lacks (a downgrade).
        await database.ExecuteAsync(
            "INSERT INTO fsdir_schema_migrations (name, checksum, state, applied_at) VALUES ('migrations/999_newer.sql', 'x', 'applied', NOW())");
        var status = await RunAsync(database, sql.Directory, "--status");
        var dryRun = await RunAsync(database, sql.Directory, "--dry-run");

        Assert.Equal(0, status.ExitCode);
        Assert.Contains("unknown   migrations/999_newer.sql: recorded (applied), but there is no such file here", status.Output, StringComparison.Ordinal);
        Assert.Contains("unknown   migrations/999_newer.sql", dryRun.Output, StringComparison.Ordinal);
        Assert.Matches(@"applied   migrations/007_change_feed\.sql  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  \S+@", status.Output);
        Assert.Contains($"pending   migrations/{NewMigration}", status.Output, StringComparison.Ordinal);
        Assert.Equal(0, dryRun.ExitCode);
        Assert.Equal([$"would apply  migrations/{NewMigration} (1 statement)"], dryRun.Output.Split('\n').Where(static l => l.StartsWith("would apply", StringComparison.Ordinal)));
        Assert.Equal(0L, await TableCountAsync(database, "fsdir_test_addition"));
        Assert.Equal(ShippedFiles + 1, (await LedgerAsync(database)).Count);
    }

    [Fact]
    public async Task A_claim_left_by_a_crashed_run_stops_the_next_run_with_the_statement_that_clears_it()
    {
        await using var database = await TestDatabase.CreateEmptyAsync();
        using var sql = CopySql();
        Assert.Equal(0, (await RunAsync(database, sql.Directory)).ExitCode);
        await File.WriteAllTextAsync(sql.Migration(NewMigration), NewMigrationSql);
        await database.ExecuteAsync(
            "INSERT INTO fsdir_schema_migrations (name, checksum, state, claimed_by) VALUES (@Name, 'x', 'applying', 'ops@db-host-2 pid 4242 run dead0001')",
            new { Name = "migrations/" + NewMigration });

        var clock = Stopwatch.StartNew();
        var stopped = await RunAsync(database, sql.Directory, "--claim-timeout", "3");

        Assert.Equal(1, stopped.ExitCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(30));
        Assert.Contains($"waiting   migrations/{NewMigration}: being applied by ops@db-host-2 pid 4242 run dead0001", stopped.Output, StringComparison.Ordinal);
        Assert.Contains("has not shown a sign of life for 3 s", stopped.Errors, StringComparison.Ordinal);
        var clear = stopped.Errors.Split('\n').Select(static l => l.Trim()).Single(static l => l.StartsWith("DELETE FROM", StringComparison.Ordinal));
        Assert.Equal($"DELETE FROM fsdir_schema_migrations WHERE name = 'migrations/{NewMigration}' AND state = 'applying';", clear);

        await database.ExecuteAsync(clear);
        var resumed = await RunAsync(database, sql.Directory);

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains($"applied   migrations/{NewMigration} (1 statement", resumed.Output, StringComparison.Ordinal);
        Assert.Equal(1L, await TableCountAsync(database, "fsdir_test_addition"));
    }

    [Fact]
    public async Task A_run_waits_out_a_live_run_that_applies_a_file_for_longer_than_the_claim_timeout_and_both_succeed()
    {
        await using var database = await TestDatabase.CreateEmptyAsync();
        using var sql = CopySql();
        Assert.Equal(0, (await RunAsync(database, sql.Directory)).ExitCode);
        // Twice the waiter's claim timeout: only the applier's heartbeat keeps the waiter waiting.
        await File.WriteAllTextAsync(sql.Migration(NewMigration), NewMigrationSql + "DO SLEEP(6);\n");

        var runs = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => RunAsync(database, sql.Directory, "--claim-timeout", "3"))));

        Assert.All(runs, static run => Assert.True(run.ExitCode == 0, run.ToString()));
        var applier = Assert.Single(runs, static run => run.Output.Contains($"applied   migrations/{NewMigration} (2 statements", StringComparison.Ordinal));
        var waiter = runs.Single(run => !ReferenceEquals(run, applier));
        Assert.Contains($"waiting   migrations/{NewMigration}: being applied by ", waiter.Output, StringComparison.Ordinal);
        Assert.Contains($"applied   migrations/{NewMigration} by another run", waiter.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_statement_is_reported_with_its_file_and_line_and_the_next_run_applies_the_file_again()
    {
        await using var database = await TestDatabase.CreateEmptyAsync();
        using var sql = CopySql();
        await File.WriteAllTextAsync(sql.Migration(NewMigration), NewMigrationSql + "\nSELECT no_such_column FROM `fsdir_test_addition`;\n");

        var failed = await RunAsync(database, sql.Directory);

        Assert.Equal(1, failed.ExitCode);
        Assert.Contains($"failed: migrations/{NewMigration}, statement 2 of 2 (line 3): Unknown column 'no_such_column'", failed.Errors, StringComparison.Ordinal);
        Assert.Contains("applied   migrations/007_change_feed.sql (", failed.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(await LedgerAsync(database), static r => r.Name == "migrations/" + NewMigration);

        await File.WriteAllTextAsync(sql.Migration(NewMigration), NewMigrationSql);
        var fixedRun = await RunAsync(database, sql.Directory);

        Assert.True(fixedRun.ExitCode == 0, fixedRun.ToString());
        Assert.Equal([$"done: 1 applied, {ShippedFiles} already applied"], fixedRun.Output.Split('\n').Where(static l => l.StartsWith("done", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("--frobnicate", "unknown argument --frobnicate")]
    [InlineData("--status --dry-run", "--status and --dry-run do not go together")]
    [InlineData("--claim-timeout soon", "--claim-timeout needs a value")]
    [InlineData("--claim-timeout 1", "--claim-timeout needs a value (--claim-timeout: whole seconds, at least 3)")]
    [InlineData("--sql", "--sql needs a value")]
    public async Task Unknown_or_clashing_arguments_are_a_usage_error_with_exit_2(string arguments, string problem)
    {
        using var output = new StringWriter();
        using var errors = new StringWriter();

        var code = await MigrateCommand.RunAsync(new ConfigurationBuilder().Build(), arguments.Split(' '), output, errors, CancellationToken.None);

        Assert.Equal(2, code);
        Assert.StartsWith($"fsdirectory migrate: {problem}", errors.ToString(), StringComparison.Ordinal);
        Assert.Contains("Usage: fsdirectory migrate", errors.ToString(), StringComparison.Ordinal);
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public async Task Help_prints_the_usage_with_the_sql_folder_it_would_use_and_exit_0()
    {
        using var output = new StringWriter();

        var code = await MigrateCommand.RunAsync(new ConfigurationBuilder().Build(), ["--help", "--sql", "/srv/sql"], output, TextWriter.Null, CancellationToken.None);

        Assert.Equal(0, code);
        Assert.Contains("Usage: fsdirectory migrate [--status | --dry-run]", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("Here: /srv/sql", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_connection_string_it_exits_1_with_one_clear_line()
    {
        using var errors = new StringWriter();

        var code = await MigrateCommand.RunAsync(new ConfigurationBuilder().Build(), ["--sql", ShippedSql], TextWriter.Null, errors, CancellationToken.None);

        Assert.Equal(1, code);
        Assert.Equal("fsdirectory migrate: ConnectionStrings:Default is not set: set it as for the service (appsettings.json, or the environment variable ConnectionStrings__Default).",
            errors.ToString().Trim());
    }

    [Theory]
    [InlineData("migrate --status", "--status")]
    [InlineData("--settings /etc/fsdirectory/appsettings.json migrate --dry-run", "--dry-run")]
    [InlineData("--Database:ConnectTimeoutSeconds=5 migrate", "")]
    [InlineData("--urls http://127.0.0.1:8080", null)]
    [InlineData("--settings migrate", null)]
    [InlineData("", null)]
    public void The_service_runs_migrate_when_it_is_the_first_word_after_any_settings(string commandLine, string? migrateArguments)
    {
        var arguments = MigrateCommand.CommandArguments(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        Assert.Equal(migrateArguments, arguments is null ? null : string.Join(' ', arguments));
    }

    [Fact]
    public void The_sql_folder_is_the_packaged_one_when_it_holds_schema_sql_and_else_the_one_beside_the_binary()
    {
        using var packaged = CopySql();
        var beside = Path.Combine(Path.GetTempPath(), "fsdir-beside");

        Assert.Equal(packaged.Directory, MigrationFiles.DefaultDirectory(packaged.Directory, beside));
        File.Delete(Path.Combine(packaged.Directory, "schema.sql"));
        Assert.Equal(beside, MigrationFiles.DefaultDirectory(packaged.Directory, beside));
        Assert.True(File.Exists(Path.Combine(MigrationFiles.BesideBinary, "migrations", "007_change_feed.sql")), "the build copies the SQL beside the binary");
    }

    [Fact]
    public async Task The_service_binary_runs_migrate_with_its_settings_from_the_environment()
    {
        await using var database = await TestDatabase.CreateEmptyAsync();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // Settings before the command, as the package's wrapper passes --settings; the SQL the build
            // put beside the binary, named relative to it as an operator would.
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "FsDirectory.dll"), "--Database:ConnectTimeoutSeconds", "5", "migrate", "--sql", "sql" },
        };
        start.Environment["ConnectionStrings__Default"] = database.ConnectionString;

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, await output + await errors);
        Assert.Contains($"database {database.Name} on 127.0.0.1:", await output, StringComparison.Ordinal);
        Assert.Contains($"done: {ShippedFiles} applied, 0 already applied", await output, StringComparison.Ordinal);
        Assert.Equal(ShippedFiles, (await LedgerAsync(database)).Count);
    }

    private static Task<long> TableCountAsync(TestDatabase database, string table) =>
        database.ScalarAsync<long>("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = @table", new { table });
}
