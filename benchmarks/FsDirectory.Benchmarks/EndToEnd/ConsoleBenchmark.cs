using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace FsDirectory.Benchmarks.EndToEnd;

/// <summary>
/// `make bench-console`: the admin console's pages over 100k rules (and 20k accounts), in the Release service.
/// Server time is the Server-Timing header every console response carries (from the console's first middleware
/// to the response start); the client time is the whole request over loopback, body included.
/// </summary>
public static partial class ConsoleBenchmark
{
    private const string Key = "bench-console-key-0123456789";
    private const int Warmup = 3;
    private const int Samples = 25;

    public static async Task<int> RunAsync(string[] args)
    {
        var connection = BenchArgs.Required(args, "--connection");
        var output = BenchArgs.Optional(args, "--out", ".data/bench-console.md");
        await BenchDatabase.LoadHundredThousandAsync(connection);
        // A reseller with a quarter of the accounts (and so of the rules): what a reseller key lists.
        await using (var db = new MySqlConnector.MySqlConnection(connection))
        {
            await db.OpenAsync();
            await using var share = new MySqlConnector.MySqlCommand("UPDATE accounts SET reseller_id = 1 WHERE id % 4 = 0", db);
            await share.ExecuteNonQueryAsync();
        }

        using var host = await BenchHost.StartAsync(BenchArgs.Required(args, "--host"), connection, new Dictionary<string, string>
        {
            ["Admin__ApiKeys__0__Key"] = Key,
            ["Admin__ApiKeys__0__Name"] = "bench",
            ["Admin__ApiKeys__1__Key"] = Key + "-reseller",
            ["Admin__ApiKeys__1__Name"] = "bench-reseller",
            ["Admin__ApiKeys__1__ResellerId"] = "1",
        });
        var admin = await SignInAsync(host.Endpoint, Key);
        var reseller = await SignInAsync(host.Endpoint, Key + "-reseller");

        (string Name, HttpClient Client, string Path)[] pages =
        [
            ("list, first page (50 rows, by id)", admin, "/console/ip-settings"),
            ("list, 200 rows", admin, "/console/ip-settings?pageSize=200"),
            ("list, sorted by name", admin, "/console/ip-settings?sort=name"),
            ("list, sorted by IP, descending", admin, "/console/ip-settings?sort=-ip"),
            ("list, sorted by account", admin, "/console/ip-settings?sort=account"),
            ("list, text search", admin, "/console/ip-settings?q=bench%2099"),
            ("list, account + status filter", admin, "/console/ip-settings?accountId=77&status=0"),
            ("list, last page (offset 99,950)", admin, "/console/ip-settings?page=2000"),
            ("list, reseller key (25,000 of the rules)", reseller, "/console/ip-settings"),
            ("list, reseller key, sorted by name", reseller, "/console/ip-settings?sort=name"),
            ("rule form", admin, "/console/ip-settings/edit/50000"),
            ("account search (JSON)", admin, "/console/accounts?handler=Search&q=1000001"),
            ("problems view", admin, "/console/ip-settings/problems"),
            ("test a call", admin, "/console/test-call?ip=198.18.0.1&number=12066418000"),
        ];

        var report = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"100,000 rules, {BenchData.Accounts:N0} accounts; {Samples} requests per page after {Warmup} warm-up requests, one at a time.")
            .AppendLine()
            .AppendLine("| page | server ms, median | server ms, p95 | client ms, median | bytes |")
            .AppendLine("|---|---:|---:|---:|---:|");
        foreach (var (name, client, path) in pages)
        {
            var server = new List<double>();
            var whole = new List<double>();
            var bytes = 0;
            for (var i = 0; i < Warmup + Samples; i++)
            {
                var watch = Stopwatch.StartNew();
                using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
                var body = await response.Content.ReadAsByteArrayAsync();
                watch.Stop();
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"{path}: {(int)response.StatusCode}");
                }

                if (i < Warmup)
                {
                    continue;
                }

                var timing = response.Headers.GetValues("Server-Timing").Single();
                server.Add(double.Parse(DurPattern().Match(timing).Groups[1].Value, CultureInfo.InvariantCulture));
                whole.Add(watch.Elapsed.TotalMilliseconds);
                bytes = body.Length;
            }

            server.Sort();
            whole.Sort();
            var line = string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {server[server.Count / 2]:F1} | {server[(int)Math.Ceiling(0.95 * server.Count) - 1]:F1} | {whole[whole.Count / 2]:F1} | {bytes:N0} |");
            Console.WriteLine(line);
            report.AppendLine(line);
        }

        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        await File.WriteAllTextAsync(output, report.ToString());
        Console.WriteLine($"written to {output}");
        return 0;
    }

    private static async Task<HttpClient> SignInAsync(IPEndPoint endpoint, string key)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = new Uri($"http://{endpoint}"),
            Timeout = TimeSpan.FromSeconds(60),
        };
        var page = await client.GetStringAsync(new Uri("/console/login", UriKind.Relative));
        var token = WebUtility.HtmlDecode(TokenPattern().Match(page).Groups[1].Value);
        using var login = await client.PostAsync(new Uri("/console/login", UriKind.Relative),
            new FormUrlEncodedContent([new("Key", key), new("__RequestVerificationToken", token)]));
        return login.StatusCode == HttpStatusCode.Found ? client : throw new InvalidOperationException($"sign-in refused: {(int)login.StatusCode}");
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    [GeneratedRegex(@"dur=([0-9.]+)")]
    private static partial Regex DurPattern();
}
