using System.Globalization;
using FsDirectory.Database;
using FsDirectory.Hosting;
using MySqlConnector;

namespace FsDirectory.Migrations;

/// <summary>
/// <c>fsdirectory migrate</c>: the service binary brings its database up to date with the settings
/// it serves with (ConnectionStrings:Default, Database:*), so a host that runs the service can run
/// this with nothing else configured.
/// </summary>
public static class MigrateCommand
{
    public const string Name = "migrate";

    private const int Ok = 0;
    private const int Refused = 1;
    private const int Usage = 2;

    private static readonly TimeSpan DefaultClaimTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The arguments after "migrate" when the command line invokes it, else null. Settings may come
    /// first, in the configuration's syntax (--Key=Value, or --Key Value): the package's wrapper runs
    /// <c>FsDirectory --settings FILE "$@"</c>.
    /// </summary>
    public static IReadOnlyList<string>? CommandArguments(string[] args)
    {
        var i = 0;
        while (i < args.Length && args[i].StartsWith('-'))
        {
            i += args[i].Contains('=', StringComparison.Ordinal) ? 1 : 2;
        }

        return i < args.Length && args[i] == Name ? args[(i + 1)..] : null;
    }

    /// <summary>Program.cs's entry for <c>fsdirectory migrate …</c>: the service's settings, the console, Ctrl+C.</summary>
    public static async Task<int> MainAsync(string[] args, IReadOnlyList<string> arguments)
    {
        using var cancel = new CancellationTokenSource();
        // Ctrl+C cancels the running statement (the driver kills the query) and releases the claim,
        // instead of leaving a claim that would stop the next run.
        // A second Ctrl+C ends the process at once.
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = !cancel.IsCancellationRequested;
            cancel.Cancel();
        };
        return await RunAsync(Configuration(args), arguments, Console.Out, Console.Error, cancel.Token);
    }

    /// <summary>
    /// The sources and order WebApplication.CreateBuilder gives the service (appsettings.json,
    /// appsettings.{Environment}.json, user secrets in Development, environment variables, the
    /// command line), taken from it so the two cannot drift. Nothing is built or started.
    /// </summary>
    public static IConfiguration Configuration(string[] args) =>
        WebApplication.CreateBuilder(new WebApplicationOptions { Args = args }).AddSettingsFile().Configuration;

    public static async Task<int> RunAsync(IConfiguration configuration, IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var (options, problem) = Parse(args);
        if (options is null)
        {
            await stderr.WriteLineAsync($"fsdirectory migrate: {problem}");
            await stderr.WriteLineAsync(UsageText(MigrationFiles.DefaultDirectory(MigrationFiles.PackagedDirectory, MigrationFiles.BesideBinary)));
            return Usage;
        }

        var sqlDirectory = options.SqlDirectory ?? MigrationFiles.DefaultDirectory(MigrationFiles.PackagedDirectory, MigrationFiles.BesideBinary);
        if (options.Help)
        {
            await stdout.WriteLineAsync(UsageText(sqlDirectory));
            return Ok;
        }

        try
        {
            var connectionString = ConnectionString(configuration);
            var files = MigrationFiles.Load(sqlDirectory);
            var target = new MySqlConnectionStringBuilder(connectionString);
            await stdout.WriteLineAsync($"database {target.Database} on {target.Server}:{target.Port}, SQL from {Path.GetFullPath(sqlDirectory)}");

            var migrator = new Migrator(connectionString, files, stdout, options.ClaimTimeout);
            if (options.Status)
            {
                return await migrator.StatusAsync(ct);
            }

            await migrator.RunAsync(options.DryRun, ct);
            return Ok;
        }
        catch (MigrationException ex)
        {
            await stderr.WriteLineAsync($"fsdirectory migrate: {ex.Message}");
            return Refused;
        }
        catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.UnknownDatabase)
        {
            await stderr.WriteLineAsync($"fsdirectory migrate: {ex.Message}. Create it first (CREATE DATABASE name CHARACTER SET utf8mb4, as a user allowed to), then run migrate.");
            return Refused;
        }
        catch (MySqlException ex)
        {
            await stderr.WriteLineAsync($"fsdirectory migrate: the database refused: {ex.Message}");
            return Refused;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("fsdirectory migrate: cancelled; the file being applied was not recorded, the next run applies it again.");
            return Refused;
        }
    }

    /// <summary>
    /// The service's connection string, with what a migration needs: user variables (002 uses
    /// @fsdir_sql, which the driver would otherwise take for a missing parameter), the first listed
    /// host that answers (a Galera node list), no pooling (each file gets a fresh session, as with the
    /// stock client), and no client-side statement timeout: cutting an ALTER on a big table short
    /// would only roll it back, and Ctrl+C stops it when an operator wants to.
    /// </summary>
    private static string ConnectionString(IConfiguration configuration)
    {
        var configured = configuration.GetConnectionString("Default");
        if (string.IsNullOrWhiteSpace(configured))
        {
            throw new MigrationException(
                "ConnectionStrings:Default is not set: set it as for the service (appsettings.json, or the environment variable ConnectionStrings__Default).");
        }

        var database = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var builder = new MySqlConnectionStringBuilder(configured)
        {
            AllowUserVariables = true,
            LoadBalance = MySqlLoadBalance.FailOver,
            Pooling = false,
            ConnectionTimeout = (uint)database.ConnectTimeoutSeconds,
            DefaultCommandTimeout = 0,
            TreatTinyAsBoolean = false,
        };
        if (string.IsNullOrEmpty(builder.Database))
        {
            throw new MigrationException("ConnectionStrings:Default names no Database: migrate applies the schema to the service's own database.");
        }

        return builder.ConnectionString;
    }

    private static (Options? Options, string? Problem) Parse(IReadOnlyList<string> args)
    {
        var options = new Options();
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "-h" or "--help":
                    options = options with { Help = true };
                    break;
                case "--status":
                    options = options with { Status = true };
                    break;
                case "--dry-run":
                    options = options with { DryRun = true };
                    break;
                case "--sql" when i + 1 < args.Count:
                    options = options with { SqlDirectory = args[++i] };
                    break;
                case "--claim-timeout" when i + 1 < args.Count
                    && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                    && TimeSpan.FromSeconds(seconds) >= MigrationLedger.MinimumClaimTimeout:
                    options = options with { ClaimTimeout = TimeSpan.FromSeconds(seconds) };
                    i++;
                    break;
                // --Key=Value is a setting for the configuration (as the service takes it), not an option.
                case var setting when setting.StartsWith("--", StringComparison.Ordinal) && setting.Contains('=', StringComparison.Ordinal):
                    break;
                case "--sql" or "--claim-timeout":
                    return (null, $"{args[i]} needs a value (--claim-timeout: whole seconds, at least {MigrationLedger.MinimumClaimTimeout.TotalSeconds:0})");
                default:
                    return (null, $"unknown argument {args[i]}");
            }
        }

        return options.Status && options.DryRun ? (null, "--status and --dry-run do not go together") : (options, null);
    }

    public static string UsageText(string sqlDirectory) =>
        $"""
        Usage: fsdirectory migrate [--status | --dry-run] [--sql DIR] [--claim-timeout SECONDS] [--Key=Value ...]

        Brings the database of ConnectionStrings:Default up to date: schema.sql, then every
        migrations/*.sql in name order, each file once. Each applied file is recorded with its
        SHA-256 in the table {MigrationLedger.Table}; an applied file that has changed since is
        refused by name, and nothing is applied.

          --status         list the files: applied, pending, CHANGED (edited since it was applied),
                           applying (claimed by a run now), unknown (recorded, no such file).
                           Exit 1 when a run would be refused.
          --dry-run        say which files would be applied; change nothing.
          --sql DIR        the SQL folder (schema.sql and migrations/). Default: {MigrationFiles.PackagedDirectory}
                           when it holds schema.sql (the package's), else sql/ beside this binary.
                           Here: {Path.GetFullPath(sqlDirectory)}
          --claim-timeout SECONDS
                           how long to wait on another run's claim of a file that shows no sign of
                           life (a crashed run) before giving up with how to clear it. Default: {DefaultClaimTimeout.TotalSeconds:0},
                           at least {MigrationLedger.MinimumClaimTimeout.TotalSeconds:0}; a live run beats every second.
          --Key=Value      a setting, as the service takes it (e.g. --ConnectionStrings:Default=...).
          -h, --help       this text.

        Settings are read as the service reads them: appsettings.json, appsettings.{"{Environment}"}.json,
        environment variables (ConnectionStrings__Default), the command line. The database must exist.
        Works on an empty database, on one set up by hand with the stock client, and on an existing
        ASTPP 6.0 database (schema.sql only creates missing tables; the migrations are additive and
        re-runnable). Several hosts may run it at once, on one server or on a Galera cluster: each
        file is applied once. Needs the TRIGGER privilege (docs/database.md).

        Exit status: 0 done or up to date, 1 refused or failed (the message names the file), 2 usage.
        """;

    private sealed record Options
    {
        public bool Help { get; init; }
        public bool Status { get; init; }
        public bool DryRun { get; init; }
        public string? SqlDirectory { get; init; }
        public TimeSpan ClaimTimeout { get; init; } = DefaultClaimTimeout;
    }
}
