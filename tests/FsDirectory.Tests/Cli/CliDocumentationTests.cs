using System.Diagnostics;
using System.Text.RegularExpressions;
using FsDirectory.Cli;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Cli;

/// <summary>`fsdir --help` is the source of truth; the man page and the bash completion must name all it names.</summary>
public sealed partial class CliDocumentationTests
{
    private static readonly string Share = Path.Combine(Paths.Root, "src", "FsDirectory.Cli", "share");

    /// <summary>"list", "proxy add", "default-profile preview": a command line of the help's Commands section.</summary>
    [GeneratedRegex(@"^  (?<command>[a-z][a-z-]*)(?: (?<sub>[a-z][a-z-]*))?(?=\s|$)", RegexOptions.Multiline)]
    private static partial Regex CommandLine();

    [GeneratedRegex(@"--[a-z][a-z-]*")]
    private static partial Regex Option();

    private static string CommandsSection()
    {
        var start = CliApp.Help.IndexOf("Commands:\n", StringComparison.Ordinal);
        var end = CliApp.Help.IndexOf("\n\n", start, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "the help has a Commands: section ending in a blank line");
        return CliApp.Help[start..end];
    }

    private static string[] Commands() =>
        [.. CommandLine().Matches(CommandsSection()).Select(m => (m.Groups["command"].Value + " " + m.Groups["sub"].Value).Trim()).Distinct()];

    private static string[] Options() => [.. Option().Matches(CliApp.Help).Select(m => m.Value).Distinct()];

    /// <summary>The man page's source with groff's escapes for '-' and fonts taken out, as a reader sees the words.</summary>
    private static string ManPage() =>
        Regex.Replace(File.ReadAllText(Path.Combine(Share, "fsdir.1")).Replace(@"\-", "-", StringComparison.Ordinal), @"\\f[BIRP]", string.Empty);

    private static string Completion() => File.ReadAllText(Path.Combine(Share, "fsdir.bash-completion"));

    [Fact]
    public void The_help_lists_every_command_the_cli_runs()
    {
        Assert.Equal(
            ["list", "add", "delete", "enable", "disable", "resolve", "limits", "problems", "import", "export", "proxy list", "proxy add", "proxy delete",
             "accounts", "ip-only", "default-profile", "default-profile preview", "default-profile set", "audit", "help"],
            Commands());
        Assert.Contains("--config", Options());
        Assert.Contains("FSDIR_API_KEY", CliApp.Help, StringComparison.Ordinal);
        Assert.Contains("/etc/fsdirectory/fsdir.json", CliApp.Help, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_command_and_option_in_the_help_is_in_the_man_page()
    {
        var man = ManPage();
        foreach (var command in Commands())
        {
            Assert.Matches(new Regex($@"^\.B {Regex.Escape(command)}(\s|$)", RegexOptions.Multiline), man);
        }

        foreach (var option in Options())
        {
            Assert.Matches(new Regex($@"{Regex.Escape(option)}(?![a-z-])"), man);
        }

        foreach (var name in new[] { "FSDIR_URL", "FSDIR_API_KEY", "XDG_CONFIG_HOME", "~/.config/fsdir/config.json", "/etc/fsdirectory/fsdir.json" })
        {
            Assert.Contains(name, man, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_command_and_option_in_the_help_is_in_the_bash_completion()
    {
        var completion = Completion();
        var listed = Regex.Match(completion, "local commands=\"(?<names>[^\"]*)\"").Groups["names"].Value.Split(' ');
        Assert.Equal(Commands().Select(c => c.Split(' ')[0]).Distinct(), listed);
        foreach (var sub in Commands().Where(c => c.Contains(' ', StringComparison.Ordinal)).Select(c => c.Split(' ')[1]))
        {
            Assert.Matches(new Regex($@"\b{Regex.Escape(sub)}\b"), completion);
        }

        foreach (var option in Options())
        {
            Assert.Matches(new Regex($@"{Regex.Escape(option)}(?![a-z-])"), completion);
        }
    }

    [Fact]
    public async Task The_man_page_renders_without_a_groff_warning()
    {
        var start = new ProcessStartInfo("groff", ["-man", "-ww", "-z", Path.Combine(Share, "fsdir.1")]) { RedirectStandardError = true };
        using var groff = Process.Start(start)!;
        var warnings = await groff.StandardError.ReadToEndAsync();
        await groff.WaitForExitAsync();
        Assert.Equal(string.Empty, warnings);
        Assert.Equal(0, groff.ExitCode);
    }

    [Fact]
    public async Task The_bash_completion_completes_commands_subcommands_and_options()
    {
        async Task<string> Complete(string words)
        {
            var script = $". '{Path.Combine(Share, "fsdir.bash-completion")}'; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); _fsdir; echo \"${{COMPREPLY[*]}}\"";
            var start = new ProcessStartInfo("bash", ["--noprofile", "--norc", "-c", script]) { RedirectStandardOutput = true };
            using var bash = Process.Start(start)!;
            var output = await bash.StandardOutput.ReadToEndAsync();
            await bash.WaitForExitAsync();
            return output.Trim();
        }

        Assert.Equal("problems proxy", await Complete("fsdir pro"));
        Assert.Equal("list add delete", await Complete("fsdir --url http://127.0.0.1:8080 proxy ''"));
        Assert.Equal("--status --search --sort", await Complete("fsdir list --s"));
        Assert.Equal("on off", await Complete("fsdir ip-only 3 ''"));
        Assert.Equal("preview set", await Complete("fsdir default-profile ''"));
    }
}
