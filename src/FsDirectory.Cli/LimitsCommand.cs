namespace FsDirectory.Cli;

/// <summary>limits: the account call limits preview (GET /api/limits), before and after Limits:Enabled is turned on.</summary>
internal static class LimitsCommand
{
    internal static async Task<int> LimitsAsync(HttpClient client, List<string> operands, TextWriter stdout, TextWriter stderr)
    {
        if (operands.Count > 0)
        {
            throw new UsageException("limits takes no arguments");
        }

        return await CliOutput.PrintAsync(await client.GetAsync(new Uri("/api/limits", UriKind.Relative)), stdout, stderr);
    }
}
