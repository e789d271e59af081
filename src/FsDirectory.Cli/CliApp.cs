namespace FsDirectory.Cli;

/// <summary>
/// `fsdir`: the IP-settings and trusted-proxy admin API for scripts. Every check happens on the server; this only
/// turns arguments into requests and problem details into a message and an exit code. Here: the help, the exit codes and
/// the dispatch; each command group has a file of its own, the connection settings are in Connection.cs, output in CliOutput.cs.
/// </summary>
public static class CliApp
{
    public const int Ok = 0;
    public const int Refused = 1;
    public const int Usage = 2;

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
                                    why a call from IP (relayed by PROXY with X-AUTH-IP: IP) is accepted or refused, and its call limits
          limits                    account call limits (maxchannels, cps): on or off, and how many accounts and resellers
                                    they limit, to what (a histogram and the lowest limits)
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
          audit [--key NAME] [--entity E] [--id ID] [--action A] [--request ID] [--from TIME] [--to TIME] [--page N] [--page-size N]
                                    who changed what, when and from where, newest first (TIME: ISO 8601, e.g. 2026-12-07T03:12:00Z)
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
                "list" => await RuleCommands.ListAsync(client, CliArguments.Options(operands), stdout, stderr),
                "add" => await RuleCommands.AddAsync(client, CliArguments.Options(operands), stdout, stderr),
                "delete" => await RuleCommands.IdsAsync(client, "/api/ip-settings/delete", operands, null, stdout, stderr),
                "enable" => await RuleCommands.IdsAsync(client, "/api/ip-settings/status", operands, 0, stdout, stderr),
                "disable" => await RuleCommands.IdsAsync(client, "/api/ip-settings/status", operands, 1, stdout, stderr),
                "resolve" => await ResolveCommand.ResolveAsync(client, operands, stdout, stderr),
                "limits" => await LimitsCommand.LimitsAsync(client, operands, stdout, stderr),
                "problems" => await RuleCommands.ProblemsAsync(client, stdout, stderr),
                "import" when operands.Count == 1 => await ImportExportCommands.ImportAsync(client, operands[0], stdout, stderr),
                "export" when operands.Count <= 1 => await ImportExportCommands.ExportAsync(client, operands.FirstOrDefault(), stdout, stderr),
                "proxy" => await ProxyCommands.ProxyAsync(client, operands, stdout, stderr),
                "accounts" => await AccountCommands.AccountsAsync(client, CliArguments.Options(operands), stdout, stderr),
                "ip-only" when operands.Count == 2 => await AccountCommands.IpOnlyAsync(client, operands, stdout, stderr),
                "default-profile" => await DefaultProfileCommands.DefaultProfileAsync(client, operands, stdout, stderr),
                "audit" => await AuditCommands.AuditAsync(client, CliArguments.Options(operands), stdout, stderr),
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
}
