
namespace FsDirectory.Cli;

/// <summary>resolve: why a call from an address is accepted or refused, as the service would decide it now.</summary>
internal static class ResolveCommand
{
    internal static async Task<int> ResolveAsync(HttpClient client, List<string> operands, TextWriter stdout, TextWriter stderr)
    {
        string? via = null;
        var at = operands.IndexOf("--via");
        if (at >= 0)
        {
            via = at + 1 < operands.Count ? operands[at + 1] : throw new UsageException("--via needs a value");
            operands.RemoveRange(at, 2);
        }

        if (operands.Count is not (2 or 3))
        {
            throw new UsageException("resolve IP NUMBER [PROFILE] [--via PROXY]");
        }

        var query = $"ip={Uri.EscapeDataString(operands[0])}&number={Uri.EscapeDataString(operands[1])}"
            + (operands.Count == 3 ? $"&profile={Uri.EscapeDataString(operands[2])}" : string.Empty)
            + (via is null ? string.Empty : $"&via={Uri.EscapeDataString(via)}");
        return await CliOutput.PrintAsync(await client.GetAsync(new Uri("/api/ip-auth/resolve?" + query, UriKind.Relative)), stdout, stderr);
    }
}
