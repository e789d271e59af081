namespace FsDirectory.Tests.Infrastructure;

public static class Paths
{
    /// <summary>The repository root (where FsDirectory.sln is).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>shared/ lies beside the checkout (CI clones into X/main with X/shared next to it).</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    public static string FreeSwitchFixture(string name) => Path.Combine(Shared, "fixtures", "freeswitch", name + ".form");

    public static string Sql(string relative) => Path.Combine(Root, "sql", relative);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FsDirectory.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("FsDirectory.sln not found above " + AppContext.BaseDirectory);
    }
}
