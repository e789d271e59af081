using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FsDirectory.Benchmarks.EndToEnd;

/// <summary>The service under test in its own process (Release build, production settings), logging to a file as under systemd.</summary>
public sealed class BenchHost : IDisposable
{
    private readonly Process _process;

    private BenchHost(Process process, IPEndPoint endpoint, TimeSpan startupTime)
    {
        _process = process;
        Endpoint = endpoint;
        StartupTime = startupTime;
    }

    public IPEndPoint Endpoint { get; }

    public TimeSpan StartupTime { get; }

    /// <param name="environment">Extra settings for the service (e.g. Admin__ApiKeys__0__Key for the console benchmark).</param>
    public static async Task<BenchHost> StartAsync(string hostDll, string connectionString, IReadOnlyDictionary<string, string>? environment = null)
    {
        var port = FreePort();
        var log = Path.GetFullPath(Path.Combine(".data", "bench-host.log"));
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        var start = new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", "exec dotnet \"$0\" --urls \"$1\" >>\"$2\" 2>&1", Path.GetFullPath(hostDll), $"http://127.0.0.1:{port}", log },
            UseShellExecute = false,
            // The content root, so the service reads its own appsettings.json (log levels included).
            WorkingDirectory = Path.GetDirectoryName(Path.GetFullPath(hostDll))!,
        };
        start.Environment["ConnectionStrings__Default"] = connectionString;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var watch = Stopwatch.StartNew();
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the service");
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (watch.Elapsed < TimeSpan.FromMinutes(3))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the service exited with {process.ExitCode}; see {log}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri($"http://{endpoint}/health/ready"));
                if (response.IsSuccessStatusCode)
                {
                    return new BenchHost(process, endpoint, watch.Elapsed);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or too busy loading to answer within the probe's timeout.
            }

            await Task.Delay(100);
        }

        process.Kill();
        throw new TimeoutException($"the service was not ready within 3 minutes; see {log}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>User + system CPU time of the service process, from /proc (clock ticks of 10 ms).</summary>
    public TimeSpan CpuTime()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    public double RssMb() => StatusKb("VmRSS:") / 1024.0;

    public double PeakRssMb() => StatusKb("VmHWM:") / 1024.0;

    private long StatusKb(string field)
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
