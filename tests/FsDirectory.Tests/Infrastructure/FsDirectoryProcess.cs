using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using FsDirectory.Status;

namespace FsDirectory.Tests.Infrastructure;

/// <summary>
/// The built service as a process of its own (`dotnet FsDirectory.dll`), with the shipped defaults
/// and settings in environment variables as an operator would, on 127.0.0.1 and a free port: unlike an in-process
/// server it can be killed, so a crash is a real crash (no lease released, no row removed).
/// </summary>
public sealed class FsDirectoryProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;

    private FsDirectoryProcess(Process process, Uri address, ConcurrentQueue<string> output)
    {
        _process = process;
        _output = output;
        Address = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
    }

    public Uri Address { get; }
    public HttpClient Client { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>What the process logged (the console logger), for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    public static async Task<FsDirectoryProcess> StartAsync(string connectionString, IDictionary<string, string?> settings)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "FsDirectory.dll"), "--urls", $"http://127.0.0.1:{port}" },
        };
        start.Environment["ConnectionStrings__Default"] = connectionString;
        start.Environment["DOTNET_ENVIRONMENT"] = "Testing";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var output = new ConcurrentQueue<string>();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Keep(output, e.Data);
        process.ErrorDataReceived += (_, e) => Keep(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var instance = new FsDirectoryProcess(process, new Uri($"http://127.0.0.1:{port}"), output);
        await instance.WaitUntilReadyAsync();
        return instance;
    }

    public async Task<StatusResponse> StatusAsync() => (await Client.GetFromJsonAsync<StatusResponse>("/api/status"))!;

    /// <summary>SIGKILL: nothing runs after it, as when a machine loses power.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM: the host stops its services as on `systemctl stop`.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        await SignalAsync("TERM");
        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _process.WaitForExitAsync(budget.Token);
    }

    /// <summary>SIGSTOP: the process hangs as a whole (no thread runs), while the kernel still accepts connections on its port.</summary>
    public Task PauseAsync() => SignalAsync("STOP");

    /// <summary>SIGCONT after <see cref="PauseAsync"/>.</summary>
    public Task ResumeAsync() => SignalAsync("CONT");

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    private async Task WaitUntilReadyAsync()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (_process.HasExited)
            {
                break;
            }

            try
            {
                using var response = await Client.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        Assert.Fail($"FsDirectory process did not become ready:\n{Output}");
    }

    /// <summary>Keeps the last 2000 lines a process wrote.</summary>
    public static void Keep(ConcurrentQueue<string> output, string? line)
    {
        if (line is null)
        {
            return;
        }

        output.Enqueue(line);
        while (output.Count > 2000)
        {
            output.TryDequeue(out _);
        }
    }

    /// <summary>A loopback port nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
