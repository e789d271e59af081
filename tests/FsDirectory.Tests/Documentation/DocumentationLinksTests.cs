using System.Text.RegularExpressions;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Documentation;

/// <summary>The manual's relative links and their anchors point at files and headings that exist.</summary>
public sealed partial class DocumentationLinksTests
{
    private static readonly string[] TopLevelPages = ["README.md", "BENCHMARKS.md", "freeswitch-conf/README.md"];

    private static IEnumerable<string> Pages() =>
        TopLevelPages.Select(p => Path.Combine(Paths.Root, p))
            .Concat(System.IO.Directory.GetFiles(Path.Combine(Paths.Root, "docs"), "*.md"));

    [Fact]
    public void Every_relative_link_in_the_manual_reaches_a_file_and_heading_that_exist()
    {
        var broken = new List<string>();
        var checkedLinks = 0;
        foreach (var page in Pages())
        {
            foreach (var link in Links(File.ReadAllText(page)))
            {
                checkedLinks++;
                var (path, anchor) = link.IndexOf('#', StringComparison.Ordinal) is var hash and >= 0 ? (link[..hash], link[(hash + 1)..]) : (link, null);
                var target = path.Length == 0 ? page : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, Uri.UnescapeDataString(path)));
                if (!File.Exists(target) && !System.IO.Directory.Exists(target))
                {
                    broken.Add($"{Path.GetRelativePath(Paths.Root, page)}: {link} (no such file)");
                }
                else if (anchor is not null && (!target.EndsWith(".md", StringComparison.Ordinal) || !Anchors(File.ReadAllText(target)).Contains(anchor)))
                {
                    broken.Add($"{Path.GetRelativePath(Paths.Root, page)}: {link} (no such heading)");
                }
            }
        }

        Assert.True(checkedLinks > 30, $"only {checkedLinks} links found: the link pattern is wrong");
        Assert.True(broken.Count == 0, string.Join('\n', broken));
    }

    [Fact]
    public void The_readme_is_a_front_page_and_the_manual_holds_the_rest()
    {
        Assert.True(new FileInfo(Path.Combine(Paths.Root, "README.md")).Length <= 12 * 1024);
        foreach (var page in new[] { "install", "configuration", "troubleshooting", "deployment", "proxies", "console", "admin-api", "design" })
        {
            Assert.True(File.Exists(Path.Combine(Paths.Root, "docs", page + ".md")), page);
        }
    }

    [Theory]
    [InlineData("## Switches behind a SIP proxy", "switches-behind-a-sip-proxy")]
    [InlineData("## Event Socket (change propagation)", "event-socket-change-propagation")]
    [InlineData("## `fsdir` on the PATH", "fsdir-on-the-path")]
    public void Anchors_are_made_as_github_makes_them(string heading, string anchor)
    {
        Assert.Contains(anchor, Anchors(heading));
    }

    /// <summary>Relative links outside code: fenced blocks and inline code are left out.</summary>
    private static IEnumerable<string> Links(string markdown)
    {
        var prose = InlineCode().Replace(Fenced().Replace(markdown, string.Empty), string.Empty);
        return Link().Matches(prose).Select(m => m.Groups[1].Value)
            .Where(l => !l.Contains("://", StringComparison.Ordinal) && !l.StartsWith("mailto:", StringComparison.Ordinal));
    }

    private static HashSet<string> Anchors(string markdown) =>
        [.. Heading().Matches(Fenced().Replace(markdown, string.Empty)).Select(m => Slug(m.Groups[1].Value))];

    private static string Slug(string heading) =>
        NotSlug().Replace(heading.Trim().ToLowerInvariant(), string.Empty).Replace(' ', '-');

    [GeneratedRegex(@"(?ms)^```.*?^```")]
    private static partial Regex Fenced();

    [GeneratedRegex(@"`[^`\n]*`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"\[[^\]\n]*\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"(?m)^#{1,6}\s+(.+?)\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"[^a-z0-9 _-]")]
    private static partial Regex NotSlug();
}
