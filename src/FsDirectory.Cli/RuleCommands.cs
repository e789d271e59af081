using System.Globalization;
using System.Net.Http.Json;

namespace FsDirectory.Cli;

/// <summary>list, add, delete, enable, disable and problems: the IP settings (rules) themselves.</summary>
internal static class RuleCommands
{
    internal static Task<int> ListAsync(HttpClient client, Dictionary<string, string?> options, TextWriter stdout, TextWriter stderr) =>
        CliOutput.TableAsync(client, "/api/ip-settings", options,
            [
                ("--account", "accountId"), ("--reseller", "resellerId"), ("--profile", "sipProfileId"), ("--status", "status"),
                ("--search", "q"), ("--sort", "sort"), ("--page", "page"), ("--page-size", "pageSize"),
            ],
            "id\tstatus\taccount\treseller\tprofile\tip\tprefix\tcontext\tname",
            rule =>
            [
                rule.GetProperty("id").GetInt32().ToString(CultureInfo.InvariantCulture),
                rule.GetProperty("status").GetInt32() == 0 ? "active" : "inactive",
                rule.GetProperty("accountId").GetInt32().ToString(CultureInfo.InvariantCulture),
                rule.GetProperty("resellerId").GetInt32().ToString(CultureInfo.InvariantCulture),
                rule.GetProperty("sipProfileId").GetInt32().ToString(CultureInfo.InvariantCulture),
                rule.GetProperty("ip").GetString(),
                rule.GetProperty("prefix").GetString(),
                rule.GetProperty("context").GetString(),
                rule.GetProperty("name").GetString(),
            ],
            "rule(s)", stdout, stderr);

    internal static async Task<int> AddAsync(HttpClient client, Dictionary<string, string?> options, TextWriter stdout, TextWriter stderr)
    {
        var body = new RuleBody(
            options.GetValueOrDefault("--name"),
            options.GetValueOrDefault("--ip"),
            CliArguments.Number(options, "--account"),
            CliArguments.Number(options, "--reseller"),
            CliArguments.Number(options, "--profile"),
            options.GetValueOrDefault("--prefix"),
            options.GetValueOrDefault("--context"),
            options.ContainsKey("--inactive") ? 1 : 0);
        var unknown = options.Keys.Except(["--name", "--ip", "--account", "--reseller", "--profile", "--prefix", "--context", "--inactive"]).FirstOrDefault();
        if (unknown is not null)
        {
            throw new UsageException($"unknown option {unknown}");
        }

        return await CliOutput.PrintAsync(await client.PostAsJsonAsync(new Uri("/api/ip-settings", UriKind.Relative), body, CliJson.Default.RuleBody), stdout, stderr);
    }

    internal static async Task<int> IdsAsync(HttpClient client, string path, List<string> operands, int? status, TextWriter stdout, TextWriter stderr)
    {
        if (operands.Count == 0)
        {
            throw new UsageException("give at least one rule id");
        }

        var ids = operands.Select(o => int.TryParse(o, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw new UsageException($"'{o}' is not a rule id")).ToArray();
        return await CliOutput.PrintAsync(await client.PostAsJsonAsync(new Uri(path, UriKind.Relative), new IdsBody(ids, status), CliJson.Default.IdsBody), stdout, stderr);
    }

    internal static async Task<int> ProblemsAsync(HttpClient client, TextWriter stdout, TextWriter stderr) =>
        await CliOutput.PrintAsync(await client.GetAsync(new Uri("/api/ip-settings/problems", UriKind.Relative)), stdout, stderr);
}
