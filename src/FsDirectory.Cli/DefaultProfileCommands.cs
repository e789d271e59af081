using System.Globalization;
using System.Net.Http.Json;

namespace FsDirectory.Cli;

/// <summary>default-profile [preview ID | set ID]: the global default SIP profile of IP settings.</summary>
internal static class DefaultProfileCommands
{
    internal static async Task<int> DefaultProfileAsync(HttpClient client, List<string> operands, TextWriter stdout, TextWriter stderr)
    {
        const string Path = "/api/settings/default-sip-profile";
        int Id(string text) => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw new UsageException($"'{text}' is not a sip_profiles id (0 = no default)");
        return operands switch
        {
            [] => await CliOutput.PrintAsync(await client.GetAsync(new Uri(Path, UriKind.Relative)), stdout, stderr),
            ["preview", var id] => await CliOutput.PrintAsync(await client.GetAsync(new Uri($"{Path}/preview?sipProfileId={Id(id)}", UriKind.Relative)), stdout, stderr),
            ["set", var id] => await CliOutput.PrintAsync(await client.PutAsJsonAsync(new Uri(Path, UriKind.Relative), new DefaultProfileBody(Id(id)), CliJson.Default.DefaultProfileBody), stdout, stderr),
            _ => throw new UsageException("default-profile [preview ID | set ID]"),
        };
    }
}
