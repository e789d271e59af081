using System.Text;

namespace FsDirectory.Cli;

/// <summary>import and export: every visible rule as CSV, and a CSV created all or nothing.</summary>
internal static class ImportExportCommands
{
    internal static async Task<int> ImportAsync(HttpClient client, string file, TextWriter stdout, TextWriter stderr)
    {
        if (!File.Exists(file))
        {
            await stderr.WriteLineAsync($"fsdir: {file}: no such file");
            return CliApp.Usage;
        }

        using var content = new StringContent(await File.ReadAllTextAsync(file), Encoding.UTF8, "text/csv");
        return await CliOutput.PrintAsync(await client.PostAsync(new Uri("/api/ip-settings/import", UriKind.Relative), content), stdout, stderr);
    }

    internal static async Task<int> ExportAsync(HttpClient client, string? file, TextWriter stdout, TextWriter stderr)
    {
        using var response = await client.GetAsync(new Uri("/api/ip-settings/export", UriKind.Relative));
        if (!response.IsSuccessStatusCode)
        {
            return await CliOutput.ProblemAsync(response, stderr);
        }

        var csv = await response.Content.ReadAsStringAsync();
        if (file is null)
        {
            await stdout.WriteAsync(csv);
        }
        else
        {
            await File.WriteAllTextAsync(file, csv);
        }

        return CliApp.Ok;
    }
}
