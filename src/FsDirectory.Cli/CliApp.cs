using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace FsDirectory.Cli;

/// <summary>
/// `fsdir`: the IP-settings and trusted-proxy admin API for scripts. Every check happens on the server; this only
/// turns arguments into requests and problem details into a message and an exit code.
/// </summary>
public static class CliApp
{
    public const int Ok = 0;
    public const int Refused = 1;
    public const int Usage = 2;

    // Printed for a person on a terminal: quotes and '<' as they are, not \u0027 escapes.
    private static readonly JsonWriterOptions Pretty = new() { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public const string Help = """
        fsdir [--url URL] [--api-key KEY] [--config FILE] COMMAND ...
          FsDirectory's admin API from the shell: IP settings, trusted proxies, accounts.

        Commands:
          list [--account ID] [--reseller ID] [--profile ID] [--status 0|1] [--search TEXT] [--sort KEY|-KEY] [--page N] [--page-size N]
                                    rules, a page at a time, tab-separated (the count goes to stderr)
          add --name NAME --ip IP[/LEN] --account ID [--prefix P] [--profile ID] [--context C] [--reseller ID] [--inactive]
          delete ID...              delete the rules (all or none)
          enable ID...              set status 0 (all or none)
          disable ID...             set status 1 (all or none)
          resolve IP NUMBER [PROFILE] [--via PROXY]
                                    why a call from IP (relayed by PROXY with X-AUTH-IP: IP) is accepted or refused
          problems                  unusable, tied and shadowed rules
          import FILE.csv           create every line or none (header: name,ip,accountId[,prefix,sipProfileId,context,status,resellerId,id])
          export [FILE.csv]         all visible rules as CSV (stdout without FILE); import takes it back (its ids are ignored)
          proxy list                trusted SIP proxies (operator keys only)
          proxy add --name NAME --ip IP[/LEN] [--profile ID] [--inactive]
                                    trust X-AUTH-IP from these addresses (profile 0 or omitted: every profile)
          proxy delete ID
          accounts [--search TEXT] [--page N] [--page-size N]
                                    customers and providers, with their IP-only state
          ip-only ACCOUNT on|off    refuse (on) or allow (off) password authentication of the account's devices
          default-profile           show the global default SIP profile of IP settings
          default-profile preview ID|0
                                    how many rules would change profile (0 = no default: every profile)
          default-profile set ID|0  change it (keys without ResellerId only)
          help                      this text (also -h, --help)

        Connection: each setting comes from the first of these that has it.
          --url URL, --api-key KEY  the service (default http://127.0.0.1:8080) and an admin key (sent as X-Api-Key)
          FSDIR_URL, FSDIR_API_KEY  the environment
          ~/.config/fsdir/config.json  ($XDG_CONFIG_HOME/fsdir/config.json when set), then /etc/fsdirectory/fsdir.json:
                                    {"url": "http://127.0.0.1:8080", "apiKey": "..."}
          --config FILE             read FILE instead of those two files
          A file holding an apiKey is refused when others may read it: chmod 600 (the /etc file: 640, group fsdirectory).

        Exit codes: 0 done, 1 refused by the server or the server not reached, 2 usage or configuration error.
        """;

    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, HttpMessageHandler? handler = null) =>
        RunAsync(args, stdout, stderr, CliEnvironment.Process, handler);

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CliEnvironment environment, HttpMessageHandler? handler = null)
    {
        var rest = new List<string>();
        string? url = null;
        string? key = null;
        string? config = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--url" when i + 1 < args.Length:
                    url = args[++i];
                    break;
                case "--api-key" when i + 1 < args.Length:
                    key = args[++i];
                    break;
                case "--config" when i + 1 < args.Length:
                    config = args[++i];
                    break;
                case "-h" or "--help" or "help":
                    await stdout.WriteLineAsync(Help);
                    return Ok;
                default:
                    rest.Add(args[i]);
                    break;
            }
        }

        if (rest.Count == 0)
        {
            await stderr.WriteLineAsync(Help);
            return Usage;
        }

        Connection connection;
        try
        {
            connection = Connection.Resolve(url, key, config, environment);
        }
        catch (ConfigException ex)
        {
            await stderr.WriteLineAsync($"fsdir: {ex.Message}");
            return Usage;
        }

        if (!Uri.TryCreate(connection.Url, UriKind.Absolute, out var baseAddress))
        {
            await stderr.WriteLineAsync($"fsdir: '{connection.Url}' is not an absolute URL");
            return Usage;
        }

        using var client = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        client.BaseAddress = baseAddress;
        client.Timeout = TimeSpan.FromSeconds(100);
        if (connection.ApiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", connection.ApiKey);
        }

        var command = rest[0];
        var operands = rest.Skip(1).ToList();
        try
        {
            return command switch
            {
                "list" => await ListAsync(client, Options(operands), stdout, stderr),
                "add" => await AddAsync(client, Options(operands), stdout, stderr),
                "delete" => await IdsAsync(client, "/api/ip-settings/delete", operands, null, stdout, stderr),
                "enable" => await IdsAsync(client, "/api/ip-settings/status", operands, 0, stdout, stderr),
                "disable" => await IdsAsync(client, "/api/ip-settings/status", operands, 1, stdout, stderr),
                "resolve" => await ResolveAsync(client, operands, stdout, stderr),
                "problems" => await PrintAsync(await client.GetAsync(new Uri("/api/ip-settings/problems", UriKind.Relative)), stdout, stderr),
                "import" when operands.Count == 1 => await ImportAsync(client, operands[0], stdout, stderr),
                "export" when operands.Count <= 1 => await ExportAsync(client, operands.FirstOrDefault(), stdout, stderr),
                "proxy" => await ProxyAsync(client, operands, stdout, stderr),
                "accounts" => await AccountsAsync(client, Options(operands), stdout, stderr),
                "ip-only" when operands.Count == 2 => await IpOnlyAsync(client, operands, stdout, stderr),
                "default-profile" => await DefaultProfileAsync(client, operands, stdout, stderr),
                _ => await UsageAsync(stderr, $"unknown command or wrong arguments: {string.Join(' ', rest)}"),
            };
        }
        catch (UsageException usage)
        {
            return await UsageAsync(stderr, usage.Message);
        }
        catch (HttpRequestException ex)
        {
            await stderr.WriteLineAsync($"fsdir: cannot reach {baseAddress}: {ex.Message}");
            return Refused;
        }
    }

    private static async Task<int> UsageAsync(TextWriter stderr, string message)
    {
        await stderr.WriteLineAsync($"fsdir: {message}");
        await stderr.WriteLineAsync(Help);
        return Usage;
    }

    private static Dictionary<string, string?> Options(List<string> operands)
    {
        var options = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < operands.Count; i++)
        {
            var name = operands[i];
            if (!name.StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"unexpected argument '{name}'");
            }

            if (name == "--inactive")
            {
                options[name] = "1";
                continue;
            }

            if (i + 1 >= operands.Count)
            {
                throw new UsageException($"{name} needs a value");
            }

            options[name] = operands[++i];
        }

        return options;
    }

    private static int? Number(Dictionary<string, string?> options, string name)
    {
        if (!options.TryGetValue(name, out var text) || text is null)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new UsageException($"{name} '{text}' is not a whole number");
    }

    private static Task<int> ListAsync(HttpClient client, Dictionary<string, string?> options, TextWriter stdout, TextWriter stderr) =>
        TableAsync(client, "/api/ip-settings", options,
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

    private static Task<int> AccountsAsync(HttpClient client, Dictionary<string, string?> options, TextWriter stdout, TextWriter stderr) =>
        TableAsync(client, "/api/accounts", options, [("--search", "q"), ("--page", "page"), ("--page-size", "pageSize")],
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

    /// <summary>A page of a list endpoint as tab-separated lines: the options become the query, the count goes to stderr.</summary>
    private static async Task<int> TableAsync(
        HttpClient client, string path, Dictionary<string, string?> options, (string Option, string Parameter)[] parameters,
        string header, Func<JsonElement, string?[]> row, string noun, TextWriter stdout, TextWriter stderr)
    {
        var query = new List<string>();
        foreach (var (option, parameter) in parameters)
        {
            if (options.Remove(option, out var value) && value is not null)
            {
                query.Add($"{parameter}={Uri.EscapeDataString(value)}");
            }
        }

        if (options.Count > 0)
        {
            throw new UsageException($"unknown option {options.Keys.First()}");
        }

        using var response = await client.GetAsync(new Uri(path + (query.Count > 0 ? "?" + string.Join('&', query) : string.Empty), UriKind.Relative));
        if (!response.IsSuccessStatusCode)
        {
            return await ProblemAsync(response, stderr);
        }

        using var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        await stdout.WriteLineAsync(header);
        foreach (var item in page.RootElement.GetProperty("items").EnumerateArray())
        {
            await stdout.WriteLineAsync(string.Join('\t', row(item)));
        }

        var total = page.RootElement.GetProperty("total").GetInt64();
        var shown = page.RootElement.GetProperty("items").GetArrayLength();
        await stderr.WriteLineAsync($"{shown} of {total} {noun}, page {page.RootElement.GetProperty("page").GetInt32()}");
        return Ok;
    }

    private static async Task<int> IpOnlyAsync(HttpClient client, List<string> operands, TextWriter stdout, TextWriter stderr)
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
        return await PrintAsync(await client.PutAsJsonAsync(new Uri($"/api/accounts/{id}/ip-only", UriKind.Relative), new IpOnlyBody(ipOnly), CliJson.Default.IpOnlyBody), stdout, stderr);
    }

    private static async Task<int> DefaultProfileAsync(HttpClient client, List<string> operands, TextWriter stdout, TextWriter stderr)
    {
        const string Path = "/api/settings/default-sip-profile";
        int Id(string text) => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw new UsageException($"'{text}' is not a sip_profiles id (0 = no default)");
        return operands switch
        {
            [] => await PrintAsync(await client.GetAsync(new Uri(Path, UriKind.Relative)), stdout, stderr),
            ["preview", var id] => await PrintAsync(await client.GetAsync(new Uri($"{Path}/preview?sipProfileId={Id(id)}", UriKind.Relative)), stdout, stderr),
            ["set", var id] => await PrintAsync(await client.PutAsJsonAsync(new Uri(Path, UriKind.Relative), new DefaultProfileBody(Id(id)), CliJson.Default.DefaultProfileBody), stdout, stderr),
            _ => throw new UsageException("default-profile [preview ID | set ID]"),
        };
    }

    private static async Task<int> AddAsync(HttpClient client, Dictionary<string, string?> options, TextWriter stdout, TextWriter stderr)
    {
        var body = new RuleBody(
            options.GetValueOrDefault("--name"),
            options.GetValueOrDefault("--ip"),
            Number(options, "--account"),
            Number(options, "--reseller"),
            Number(options, "--profile"),
            options.GetValueOrDefault("--prefix"),
            options.GetValueOrDefault("--context"),
            options.ContainsKey("--inactive") ? 1 : 0);
        var unknown = options.Keys.Except(["--name", "--ip", "--account", "--reseller", "--profile", "--prefix", "--context", "--inactive"]).FirstOrDefault();
        if (unknown is not null)
        {
            throw new UsageException($"unknown option {unknown}");
        }

        return await PrintAsync(await client.PostAsJsonAsync(new Uri("/api/ip-settings", UriKind.Relative), body, CliJson.Default.RuleBody), stdout, stderr);
    }

    private static async Task<int> IdsAsync(HttpClient client, string path, List<string> operands, int? status, TextWriter stdout, TextWriter stderr)
    {
        if (operands.Count == 0)
        {
            throw new UsageException("give at least one rule id");
        }

        var ids = operands.Select(o => int.TryParse(o, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw new UsageException($"'{o}' is not a rule id")).ToArray();
        return await PrintAsync(await client.PostAsJsonAsync(new Uri(path, UriKind.Relative), new IdsBody(ids, status), CliJson.Default.IdsBody), stdout, stderr);
    }

    private static async Task<int> ResolveAsync(HttpClient client, List<string> operands, TextWriter stdout, TextWriter stderr)
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
        return await PrintAsync(await client.GetAsync(new Uri("/api/ip-auth/resolve?" + query, UriKind.Relative)), stdout, stderr);
    }

    private static async Task<int> ProxyAsync(HttpClient client, List<string> operands, TextWriter stdout, TextWriter stderr)
    {
        switch (operands.FirstOrDefault())
        {
            case "list" when operands.Count == 1:
                using (var response = await client.GetAsync(new Uri("/api/trusted-proxies", UriKind.Relative)))
                {
                    if (!response.IsSuccessStatusCode)
                    {
                        return await ProblemAsync(response, stderr);
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

                    return Ok;
                }

            case "add":
                var options = Options(operands.Skip(1).ToList());
                if (options.Keys.Except(["--name", "--ip", "--profile", "--inactive"]).FirstOrDefault() is { } unknown)
                {
                    throw new UsageException($"unknown option {unknown}");
                }

                var body = new ProxyBody(
                    options.GetValueOrDefault("--name"),
                    options.GetValueOrDefault("--ip"),
                    Number(options, "--profile"),
                    options.ContainsKey("--inactive") ? 1 : 0);
                return await PrintAsync(await client.PostAsJsonAsync(new Uri("/api/trusted-proxies", UriKind.Relative), body, CliJson.Default.ProxyBody), stdout, stderr);

            case "delete" when operands.Count == 2:
                var id = int.TryParse(operands[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
                    ? parsed
                    : throw new UsageException($"'{operands[1]}' is not a proxy id");
                return await PrintAsync(await client.DeleteAsync(new Uri($"/api/trusted-proxies/{id}", UriKind.Relative)), stdout, stderr);

            default:
                throw new UsageException("proxy list | proxy add --name NAME --ip IP [--profile ID] [--inactive] | proxy delete ID");
        }
    }

    private static async Task<int> ImportAsync(HttpClient client, string file, TextWriter stdout, TextWriter stderr)
    {
        if (!File.Exists(file))
        {
            await stderr.WriteLineAsync($"fsdir: {file}: no such file");
            return Usage;
        }

        using var content = new StringContent(await File.ReadAllTextAsync(file), Encoding.UTF8, "text/csv");
        return await PrintAsync(await client.PostAsync(new Uri("/api/ip-settings/import", UriKind.Relative), content), stdout, stderr);
    }

    private static async Task<int> ExportAsync(HttpClient client, string? file, TextWriter stdout, TextWriter stderr)
    {
        using var response = await client.GetAsync(new Uri("/api/ip-settings/export", UriKind.Relative));
        if (!response.IsSuccessStatusCode)
        {
            return await ProblemAsync(response, stderr);
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

        return Ok;
    }

    private static async Task<int> PrintAsync(HttpResponseMessage response, TextWriter stdout, TextWriter stderr)
    {
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                return await ProblemAsync(response, stderr);
            }

            var text = await response.Content.ReadAsStringAsync();
            if (text.Length > 0)
            {
                using var json = JsonDocument.Parse(text);
                await stdout.WriteLineAsync(Indented(json.RootElement));
            }

            return Ok;
        }
    }

    /// <summary>Problem details become one line on stderr: "fsdir: 400 Invalid IP setting: line 4: ...".</summary>
    private static async Task<int> ProblemAsync(HttpResponseMessage response, TextWriter stderr)
    {
        var text = await response.Content.ReadAsStringAsync();
        var detail = text;
        var title = response.ReasonPhrase;
        try
        {
            using var json = JsonDocument.Parse(text);
            if (json.RootElement.TryGetProperty("detail", out var d))
            {
                detail = d.GetString();
            }

            if (json.RootElement.TryGetProperty("title", out var t))
            {
                title = t.GetString();
            }
        }
        catch (JsonException)
        {
            // Not problem details (e.g. the 404 of a server with the admin API off): print the status alone.
        }

        var hint = response.StatusCode == HttpStatusCode.NotFound && text.Length == 0 ? " (is the admin API enabled on the server?)" : string.Empty;
        await stderr.WriteLineAsync($"fsdir: {(int)response.StatusCode} {title}{(string.IsNullOrEmpty(detail) ? string.Empty : ": " + detail)}{hint}");
        return Refused;
    }

    /// <summary>A response as a person reads it; written by hand because a native binary has no reflection-based serializer.</summary>
    private static string Indented(JsonElement element)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, Pretty))
        {
            element.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private sealed class UsageException(string message) : Exception(message);
}
