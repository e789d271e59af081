namespace FsDirectory.Benchmarks.EndToEnd;

/// <summary>The "--name value" arguments of the end-to-end runs.</summary>
internal static class BenchArgs
{
    public static string Required(string[] args, string name) =>
        Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : throw new InvalidOperationException($"{name} is required");

    public static string Optional(string[] args, string name, string fallback) =>
        Array.IndexOf(args, name) >= 0 ? Required(args, name) : fallback;
}
