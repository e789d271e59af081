using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace FsDirectory.Cli;

/// <summary>Where fsdir finds its settings besides its flags: the environment and the two config files. Tests pass their own.</summary>
/// <param name="Variable">Reads an environment variable.</param>
/// <param name="SystemConfigFile">The package's file, root:fsdirectory 0640, so members of the group share one key.</param>
public sealed record CliEnvironment(Func<string, string?> Variable, string SystemConfigFile)
{
    public const string DefaultSystemConfigFile = "/etc/fsdirectory/fsdir.json";

    public static CliEnvironment Process { get; } = new(Environment.GetEnvironmentVariable, DefaultSystemConfigFile);

    /// <summary>$XDG_CONFIG_HOME/fsdir/config.json, else ~/.config/fsdir/config.json (the XDG spec ignores a relative XDG_CONFIG_HOME).</summary>
    public string? UserConfigFile
    {
        get
        {
            var xdg = Variable("XDG_CONFIG_HOME");
            if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg))
            {
                return Path.Combine(xdg, "fsdir", "config.json");
            }

            var home = Variable("HOME");
            return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".config", "fsdir", "config.json");
        }
    }
}

/// <summary>
/// The service's URL and the admin key, each taken from the first place that has it: the flags, the environment
/// (FSDIR_URL, FSDIR_API_KEY), then the user's config file and the system's (or only the file given with --config).
/// </summary>
public sealed record Connection(string Url, string? ApiKey)
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <param name="url">--url: given, even empty, it wins (an empty value means the default, as before config files).</param>
    /// <param name="apiKey">--api-key: given, even empty, it wins (an empty value sends no key).</param>
    /// <param name="configFile">--config: read this file instead of the user's and the system's.</param>
    /// <exception cref="ConfigException">A config file that cannot be used: the message is one line for stderr.</exception>
    public static Connection Resolve(string? url, string? apiKey, string? configFile, CliEnvironment environment)
    {
        url ??= NonEmpty(environment.Variable("FSDIR_URL"));
        apiKey ??= NonEmpty(environment.Variable("FSDIR_API_KEY"));
        if (configFile is not null)
        {
            if (configFile.Length == 0)
            {
                throw new ConfigException("--config needs a file name");
            }

            (url, apiKey) = Fill(url, apiKey, Read(configFile, FileKind.Named));
        }
        else
        {
            if (environment.UserConfigFile is { } user && (url is null || apiKey is null))
            {
                (url, apiKey) = Fill(url, apiKey, Read(user, FileKind.User));
            }

            if (url is null || apiKey is null)
            {
                (url, apiKey) = Fill(url, apiKey, Read(environment.SystemConfigFile, FileKind.System));
            }
        }

        return new Connection(string.IsNullOrEmpty(url) ? DefaultUrl : url, string.IsNullOrEmpty(apiKey) ? null : apiKey);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static (string? Url, string? ApiKey) Fill(string? url, string? apiKey, (string? Url, string? ApiKey) file) =>
        (url ?? file.Url, apiKey ?? file.ApiKey);

    private enum FileKind
    {
        /// <summary>--config FILE: it must exist.</summary>
        Named,

        /// <summary>The user's own file: optional, and only its owner may read a key in it (as ssh treats its keys).</summary>
        User,

        /// <summary>/etc/fsdirectory/fsdir.json: optional, group-readable by design, skipped by users outside the group.</summary>
        System,
    }

    private static (string? Url, string? ApiKey) Read(string path, FileKind kind)
    {
        string text;
        UnixFileMode mode;
        try
        {
            using var handle = File.OpenHandle(path);
            mode = OperatingSystem.IsWindows() ? UnixFileMode.None : File.GetUnixFileMode(handle);
            text = ReadAll(handle);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return kind == FileKind.Named ? throw new ConfigException($"{path}: no such file") : (null, null);
        }
        catch (UnauthorizedAccessException) when (kind == FileKind.System)
        {
            return (null, null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ConfigException($"{path}: {ex.Message}");
        }

        string? url = null;
        string? apiKey = null;
        try
        {
            using var json = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ConfigException($"{path}: expected an object such as {{\"url\": \"{DefaultUrl}\", \"apiKey\": \"...\"}}");
            }

            foreach (var setting in json.RootElement.EnumerateObject())
            {
                // Names are exact: a misspelt "apikey" would otherwise be ignored and every command refused with a 401.
                var value = setting.Value.ValueKind == JsonValueKind.String
                    ? setting.Value.GetString()
                    : throw new ConfigException($"{path}: \"{setting.Name}\" must be a string");
                switch (setting.Name)
                {
                    case "url":
                        url = NonEmpty(value);
                        break;
                    case "apiKey":
                        apiKey = NonEmpty(value);
                        break;
                    default:
                        throw new ConfigException($"{path}: unknown setting \"{setting.Name}\" (known: url, apiKey)");
                }
            }
        }
        catch (JsonException ex)
        {
            throw new ConfigException($"{path}: not valid JSON: {ex.Message}");
        }

        var tooOpen = kind == FileKind.System ? UnixFileMode.OtherRead : UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        if (apiKey is not null && (mode & tooOpen) != 0)
        {
            var fix = kind == FileKind.System ? "chmod o-r" : "chmod 600";
            throw new ConfigException(
                $"{path} holds an API key and is readable by {(kind == FileKind.System ? "others" : "group or others")} (mode {Octal(mode)}); run: {fix} {path}");
        }

        return (url, apiKey);
    }

    private static string ReadAll(SafeFileHandle handle)
    {
        using var stream = new FileStream(handle, FileAccess.Read);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8).PadLeft(3, '0');
}

/// <summary>A config file fsdir will not use; the message is printed as it is after "fsdir: ".</summary>
internal sealed class ConfigException(string message) : Exception(message);
