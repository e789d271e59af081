using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using FsDirectory.Tests.EventSocket;

namespace FsDirectory.Tests.Infrastructure;

/// <summary>
/// Debian's HAProxy running the shipped freeswitch-conf/haproxy/fsdirectory.cfg unchanged: only the listener and
/// the instances' addresses are given, through the environment variables the file reads, as an operator sets
/// them in /etc/default/haproxy. A global section of its own (Debian's haproxy.cfg has the real one) adds
/// only a log to stdout and a stats socket, so a test can see when a server goes down.
/// </summary>
public sealed class HaProxy : IAsyncDisposable
{
    public static readonly string Binary = Environment.GetEnvironmentVariable("FSDIR_HAPROXY") ?? "/usr/sbin/haproxy";
    public static readonly string ShippedConfig = Path.Combine(Paths.Root, "freeswitch-conf", "haproxy", "fsdirectory.cfg");

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;
    private readonly string _directory;

    private HaProxy(Process process, ConcurrentQueue<string> output, string directory, Uri address)
    {
        _process = process;
        _output = output;
        _directory = directory;
        Address = address;
    }

    /// <summary>Where mod_xml_curl's single binding points: http://127.0.0.1:PORT.</summary>
    public Uri Address { get; }

    public string Output => string.Join('\n', _output);

    public static Task<HaProxy> StartAsync(params Uri[] instances) => StartAsync(serverOptions: null, instances);

    /// <summary>
    /// With <paramref name="serverOptions"/>, the shipped file's <c>server</c> lines get them appended, as docs/security.md
    /// tells an operator to do for HTTPS to the instances (<c>ssl verify required ca-file … crt …</c>).
    /// </summary>
    public static async Task<HaProxy> StartAsync(string? serverOptions, params Uri[] instances)
    {
        Assert.True(File.Exists(Binary), $"{Binary} is missing: run scripts/haproxy.sh ensure (make test does)");
        Assert.InRange(instances.Length, 1, 2);
        var directory = System.IO.Directory.CreateTempSubdirectory("fsdir-haproxy-").FullName;
        var config = ShippedConfig;
        if (serverOptions is not null)
        {
            config = Path.Combine(directory, "fsdirectory.cfg");
            var lines = (await File.ReadAllLinesAsync(ShippedConfig))
                .Select(l => l.TrimStart().StartsWith("server ", StringComparison.Ordinal) ? $"{l} {serverOptions}" : l);
            await File.WriteAllLinesAsync(config, lines);
        }

        var global = Path.Combine(directory, "global.cfg");
        await File.WriteAllTextAsync(global, $"""
            global
                log stdout format raw local0
                stats socket {Path.Combine(directory, "stats.sock")} level admin

            """);
        var port = FsDirectoryProcess.FreePort();
        var start = Command.StartInfo(Binary, ["-db", "-f", global, "-f", config]);
        start.Environment["FSDIR_LB_BIND"] = $"127.0.0.1:{port}";
        for (var i = 0; i < 2; i++)
        {
            // A second server with nothing behind it would only be down; with one instance both name it.
            var instance = instances[Math.Min(i, instances.Length - 1)];
            start.Environment[$"FSDIR_BACKEND_{i + 1}"] = $"{instance.Host}:{instance.Port}";
        }

        var output = new ConcurrentQueue<string>();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => FsDirectoryProcess.Keep(output, e.Data);
        process.ErrorDataReceived += (_, e) => FsDirectoryProcess.Keep(output, e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var haproxy = new HaProxy(process, output, directory, new Uri($"http://127.0.0.1:{port}"));
        try
        {
            await Eventually.TrueAsync(async () => process.HasExited || (await haproxy.ServerStatesAsync()) is { Count: > 0 } states && states.Values.All(static s => s == "UP"),
                TimeSpan.FromSeconds(10), "haproxy listening with every server UP");
            Assert.False(process.HasExited, $"haproxy exited:\n{haproxy.Output}");
        }
        catch
        {
            await haproxy.DisposeAsync();
            throw;
        }

        return haproxy;
    }

    /// <summary>The servers of the dialplan/directory backend and their state as HAProxy's checks see them (UP, DOWN, ...).</summary>
    public async Task<Dictionary<string, string>> ServerStatesAsync() =>
        (await StatsAsync()).Where(static r => r[0] == "fsdirectory" && r[1] is not ("FRONTEND" or "BACKEND"))
            .ToDictionary(static r => r[1], static r => r[StatusColumn], StringComparer.Ordinal);

    /// <summary>How many requests a backend has been given (its <c>stot</c>).</summary>
    public async Task<long> SessionsAsync(string backend) =>
        long.Parse((await StatsAsync()).Single(r => r[0] == backend && r[1] == "BACKEND")[SessionsColumn], System.Globalization.CultureInfo.InvariantCulture);

    // Columns of "show stat" (HAProxy's management guide, "CSV format").
    private const int SessionsColumn = 7;
    private const int StatusColumn = 17;

    private async Task<List<string[]>> StatsAsync()
    {
        try
        {
            var csv = await AskAsync("show stat\n");
            return [.. csv.Split('\n').Where(static l => l.Length > 0 && l[0] != '#').Select(static l => l.Split(','))];
        }
        catch (SocketException)
        {
            // Not listening yet.
            return [];
        }
    }

    private async Task<string> AskAsync(string command)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(_directory, "stats.sock")));
        await socket.SendAsync(Encoding.ASCII.GetBytes(command));
        var reply = new StringBuilder();
        var buffer = new byte[8192];
        int read;
        while ((read = await socket.ReceiveAsync(buffer)) > 0)
        {
            reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return reply.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        System.IO.Directory.Delete(_directory, recursive: true);
    }
}
