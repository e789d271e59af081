using System.Diagnostics;

namespace FsDirectory.Tests.Infrastructure;

/// <summary>Runs the repository's provisioning scripts (scripts/*.sh) as the Makefile does.</summary>
public static class Scripts
{
    /// <summary>Runs scripts/<paramref name="script"/> and returns its standard output; a failure fails the test with its error output.</summary>
    public static async Task<string> RunAsync(string script, params string[] arguments)
    {
        var start = new ProcessStartInfo(Path.Combine(Paths.Root, "scripts", script))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await errors}");
        }

        return await output;
    }
}
