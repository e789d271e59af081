using System.Globalization;
using System.Net.Http.Json;

namespace FsDirectory.Cli;

/// <summary>accounts and ip-only: customers and providers, and whether their devices may use passwords.</summary>
internal static class AccountCommands
{
    internal static Task<int> AccountsAsync(HttpClient client, Dictionary<string, string?> options, TextWriter stdout, TextWriter stderr) =>
        CliOutput.TableAsync(client, "/api/accounts", options, [("--search", "q"), ("--page", "page"), ("--page-size", "pageSize")],
            "id\tnumber\ttype\treseller\tstatus\tip-only\tname",
            account =>
            [
                account.GetProperty("id").GetInt32().ToString(CultureInfo.InvariantCulture),
                account.GetProperty("number").GetString(),
                account.GetProperty("type").GetInt32() == 3 ? "provider" : "customer",
                account.GetProperty("resellerId").GetInt32().ToString(CultureInfo.InvariantCulture),
                account.GetProperty("status").GetInt32() == 0 ? "active" : "inactive",
                account.GetProperty("ipOnly").GetBoolean() ? "yes" : "no",
                account.GetProperty("name").GetString(),
            ],
            "account(s)", stdout, stderr);


    internal static async Task<int> IpOnlyAsync(HttpClient client, List<string> operands, TextWriter stdout, TextWriter stderr)
    {
        if (!int.TryParse(operands[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            throw new UsageException($"'{operands[0]}' is not an account id");
        }

        var ipOnly = operands[1] switch
        {
            "on" => true,
            "off" => false,
            _ => throw new UsageException($"ip-only takes on or off, not '{operands[1]}'"),
        };
        return await CliOutput.PrintAsync(await client.PutAsJsonAsync(new Uri($"/api/accounts/{id}/ip-only", UriKind.Relative), new IpOnlyBody(ipOnly), CliJson.Default.IpOnlyBody), stdout, stderr);
    }
}
