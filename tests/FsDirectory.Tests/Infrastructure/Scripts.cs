namespace FsDirectory.Tests.Infrastructure;

/// <summary>Runs the repository's provisioning scripts (scripts/*.sh) as the Makefile does.</summary>
public static class Scripts
{
    /// <summary>Runs scripts/<paramref name="script"/> and returns its standard output; a failure fails the test with its error output.</summary>
    public static async Task<string> RunAsync(string script, params string[] arguments)
    {
        // No time limit of its own: a package build or a Galera start takes what the machine's load makes it take.
        var result = await Command.RunAsync(Path.Combine(Paths.Root, "scripts", script), arguments, timeout: Timeout.InfiniteTimeSpan);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} {string.Join(' ', arguments)} failed ({result.ExitCode}): {result.Errors}");
        }

        return result.Output;
    }
}
