using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace FsDirectory.Cli;

/// <summary>proxy list | add | delete: the SIP proxies whose X-AUTH-IP header is believed.</summary>
internal static class ProxyCommands
{
    internal static async Task<int> ProxyAsync(HttpClient client, List<string> operands, TextWriter stdout, TextWriter stderr)
    {
        switch (operands.FirstOrDefault())
        {
            case "list" when operands.Count == 1:
                using (var response = await client.GetAsync(new Uri("/api/trusted-proxies", UriKind.Relative)))
                {
                    if (!response.IsSuccessStatusCode)
                    {
                        return await CliOutput.ProblemAsync(response, stderr);
                    }

                    using var list = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    await stdout.WriteLineAsync("id\tstatus\tprofile\tip\tname\tproblem");
                    foreach (var proxy in list.RootElement.EnumerateArray())
                    {
                        await stdout.WriteLineAsync(string.Join('\t',
                            proxy.GetProperty("id").GetInt32().ToString(CultureInfo.InvariantCulture),
                            proxy.GetProperty("status").GetInt32() == 0 ? "active" : "inactive",
                            proxy.GetProperty("sipProfileId").GetInt32() is var profile and not 0 ? profile.ToString(CultureInfo.InvariantCulture) : "every",
                            proxy.GetProperty("ip").GetString(),
                            proxy.GetProperty("name").GetString(),
                            proxy.GetProperty("problem").GetString()));
                    }

                    return CliApp.Ok;
                }

            case "add":
                var options = CliArguments.Options(operands.Skip(1).ToList());
                if (options.Keys.Except(["--name", "--ip", "--profile", "--inactive"]).FirstOrDefault() is { } unknown)
                {
                    throw new UsageException($"unknown option {unknown}");
                }

                var body = new ProxyBody(
                    options.GetValueOrDefault("--name"),
                    options.GetValueOrDefault("--ip"),
                    CliArguments.Number(options, "--profile"),
                    options.ContainsKey("--inactive") ? 1 : 0);
                return await CliOutput.PrintAsync(await client.PostAsJsonAsync(new Uri("/api/trusted-proxies", UriKind.Relative), body, CliJson.Default.ProxyBody), stdout, stderr);

            case "delete" when operands.Count == 2:
                var id = int.TryParse(operands[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
                    ? parsed
                    : throw new UsageException($"'{operands[1]}' is not a proxy id");
                return await CliOutput.PrintAsync(await client.DeleteAsync(new Uri($"/api/trusted-proxies/{id}", UriKind.Relative)), stdout, stderr);

            default:
                throw new UsageException("proxy list | proxy add --name NAME --ip IP [--profile ID] [--inactive] | proxy delete ID");
        }
    }
}
