using System.Security.Cryptography;

namespace FsDirectory.Migrations;

/// <summary>
/// One SQL file to apply. <see cref="Name"/> is its path under the SQL folder ("schema.sql",
/// "migrations/001_….sql"): what the ledger records, and how an operator finds the file.
/// </summary>
public sealed record MigrationFile(string Name, string Path, string Checksum, IReadOnlyList<SqlStatement> Statements);

/// <summary>The SQL folder: schema.sql first, then every migrations/*.sql in ordinal name order.</summary>
public static class MigrationFiles
{
    /// <summary>Where the Debian package installs the SQL.</summary>
    public const string PackagedDirectory = "/usr/share/fsdirectory/sql";

    /// <summary>The service's build and publish copy the SQL here (FsDirectory.csproj).</summary>
    public static string BesideBinary => System.IO.Path.Combine(AppContext.BaseDirectory, "sql");

    /// <summary>
    /// The packaged folder when it exists (an installed service and its package's SQL go together),
    /// otherwise the copy beside the binary (a build or publish output, a tarball).
    /// </summary>
    public static string DefaultDirectory(string packaged, string besideBinary) =>
        File.Exists(System.IO.Path.Combine(packaged, "schema.sql")) ? packaged : besideBinary;

    /// <summary>
    /// Reads and splits every file before anything runs, so a file the splitter refuses stops the
    /// run before the first statement, not halfway through.
    /// </summary>
    public static IReadOnlyList<MigrationFile> Load(string directory)
    {
        var schema = System.IO.Path.Combine(directory, "schema.sql");
        if (!File.Exists(schema))
        {
            throw new MigrationException($"{directory} holds no schema.sql: name the SQL folder with --sql DIR");
        }

        var migrations = System.IO.Path.Combine(directory, "migrations");
        var files = new List<string> { schema };
        if (System.IO.Directory.Exists(migrations))
        {
            files.AddRange(System.IO.Directory.GetFiles(migrations, "*.sql").Order(StringComparer.Ordinal));
        }

        return [.. files.Select(path => Read(directory, path))];
    }

    private static MigrationFile Read(string directory, string path)
    {
        var name = System.IO.Path.GetRelativePath(directory, path).Replace(System.IO.Path.DirectorySeparatorChar, '/');
        var bytes = File.ReadAllBytes(path);
        var checksum = Convert.ToHexStringLower(SHA256.HashData(bytes));
        try
        {
            using var reader = new StreamReader(new MemoryStream(bytes), detectEncodingFromByteOrderMarks: true);
            return new MigrationFile(name, path, checksum, SqlScript.Split(reader.ReadToEnd()));
        }
        catch (SqlScriptException ex)
        {
            throw new MigrationException($"{name}: {ex.Message}");
        }
    }
}

/// <summary>A refusal or failure with the one message the operator needs; the command exits 1.</summary>
public sealed class MigrationException(string message) : Exception(message);
