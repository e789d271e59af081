using System.Reflection;
using System.Text.Json;
using FsDirectory.Hosting;
using FsDirectory.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace FsDirectory.Tests.Hosting;

/// <summary>How the packaged service reads its settings, and what it says when it cannot start.</summary>
public sealed class ServiceHostTests
{
    private static readonly string Conffile = Path.Combine(Paths.Root, "debian", "etc", "appsettings.json");

    [Fact]
    public void The_settings_file_overrides_the_shipped_defaults_and_the_environment_and_command_line_override_it()
    {
        var file = Path.GetTempFileName();
        try
        {
            // Keys no option reads: other tests start services in parallel, and they read the environment too.
            File.WriteAllText(file, """{ "SettingsProbe": { "FileOnly": "from-file", "FileAndEnvironment": "from-file", "FileAndCommandLine": "from-file" } }""");
            Environment.SetEnvironmentVariable("SettingsProbe__FileAndEnvironment", "from-environment");
            var builder = WebApplication.CreateBuilder(["--settings", file, "--SettingsProbe:FileAndCommandLine", "from-command-line"]);
            builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
            {
                InitialData = new Dictionary<string, string?> { ["SettingsProbe:FileOnly"] = "shipped default" },
            });

            builder.AddSettingsFile();

            Assert.Equal("from-file", builder.Configuration["SettingsProbe:FileOnly"]);
            Assert.Equal("from-environment", builder.Configuration["SettingsProbe:FileAndEnvironment"]);
            Assert.Equal("from-command-line", builder.Configuration["SettingsProbe:FileAndCommandLine"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("SettingsProbe__FileAndEnvironment", null);
            File.Delete(file);
        }
    }

    [Fact]
    public void A_settings_file_that_does_not_exist_is_refused_rather_than_ignored()
    {
        var builder = WebApplication.CreateBuilder(["--settings", "/nonexistent/fsdirectory.json"]);

        Assert.Throws<FileNotFoundException>(() => builder.AddSettingsFile());
    }

    [Fact]
    public void Without_a_connection_string_the_service_says_so_in_one_line_and_does_not_start()
    {
        var builder = WebApplication.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Default"] = " " });
        var error = new StringWriter();

        Assert.False(ServiceHost.CanStart(builder, error));
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("fsdirectory: ConnectionStrings:Default is not set", line, StringComparison.Ordinal);
    }

    [Fact]
    public void The_packaged_settings_file_names_every_option_with_a_comment()
    {
        var text = File.ReadAllText(Conffile);
        using var document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var missing = new List<string>();
        foreach (var (section, property) in Options())
        {
            var element = document.RootElement;
            var found = section.Split(':').Append(property.Name).All(part => element.TryGetProperty(part, out element));
            // A few options are documented in a comment only, where a written default would change behaviour.
            if (!found && !text.Contains($"// {property.Name}:", StringComparison.Ordinal))
            {
                missing.Add($"{section}:{property.Name}");
            }
        }

        Assert.True(missing.Count == 0, "not in debian/etc/appsettings.json: " + string.Join(", ", missing));
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            // Every setting line is explained by the comment line above it (a section's opening brace needs none).
            if (lines[i].TrimStart().StartsWith('"') && !lines[i].TrimEnd().EndsWith('{') && !lines[i - 1].TrimStart().StartsWith("//", StringComparison.Ordinal))
            {
                Assert.Fail($"line {i + 1} has no comment above it: {lines[i].Trim()}");
            }
        }
    }

    /// <summary>Every bound option: the public settable properties of each options class with a Section.</summary>
    private static IEnumerable<(string Section, PropertyInfo Property)> Options() =>
        typeof(ServiceHost).Assembly.GetTypes()
            .Select(t => (Type: t, Section: t.GetField("Section", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as string))
            .Where(t => t.Section is not null && (t.Type.Name.EndsWith("Options", StringComparison.Ordinal) || t.Type.Name.EndsWith("Settings", StringComparison.Ordinal)))
            .SelectMany(t => t.Type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.SetMethod is { IsPublic: true })
                .Select(p => (t.Section!, p)));
}
