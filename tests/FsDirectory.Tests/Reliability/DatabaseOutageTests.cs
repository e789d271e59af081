using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Xml.Linq;
using FsDirectory.Tests.Infrastructure;
using Xunit.Abstractions;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Reliability;

/// <summary>
/// Stops and restarts a real MariaDB while FreeSWITCH-shaped requests flow: every answer must keep
/// coming, and stay byte-for-byte what it was, and the service must catch up when the database returns.
/// </summary>
public sealed class DatabaseOutageTests(ITestOutputHelper output)
{
    private static readonly FreeSwitchForm Register = FreeSwitchForm.Load("directory-sip_auth-register");

    private static readonly FreeSwitchForm Dialplan = FreeSwitchForm.Load("dialplan-acl-authed-tech-prefix")
        .With("Hunt-Network-Addr", "192.0.2.10").With("Caller-Network-Addr", "192.0.2.10")
        .With("Hunt-Destination-Number", "12066418000").With("Caller-Destination-Number", "12066418000")
        .With("variable_sofia_profile_name", "default");

    private static readonly FreeSwitchForm AclConf = FreeSwitchForm.Load("configuration-acl.conf");

    [Fact]
    public async Task Answers_stay_identical_while_MariaDB_is_stopped_and_new_rows_are_served_after_it_returns()
    {
        await using var mariadb = await PrivateMariaDb.StartAsync();
        await using var database = await TestDatabase.CreateAsync(seed: true, server: mariadb.Server);
        await using var server = await FsDirectoryServer.StartAsync(database.ConnectionString);

        FreeSwitchForm[] forms = [Register, Dialplan, AclConf];
        var expected = new string[forms.Length];
        for (var i = 0; i < forms.Length; i++)
        {
            expected[i] = await BodyAsync(server, forms[i]);
        }

        Assert.NotNull(Param(XDocument.Parse(expected[0]), "a1-hash"));
        Assert.Contains(("transfer", "12066418000 XML default"), Actions(XDocument.Parse(expected[1])));
        Assert.Contains("192.0.2.10/32", expected[2], StringComparison.Ordinal);

        using var stop = new CancellationTokenSource();
        var answered = 0;
        var wrong = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var load = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            for (var n = worker; !stop.IsCancellationRequested; n++)
            {
                var i = n % forms.Length;
                try
                {
                    var body = await BodyAsync(server, forms[i]);
                    if (body != expected[i])
                    {
                        wrong.Enqueue($"form {i}: different answer");
                    }
                    else
                    {
                        Interlocked.Increment(ref answered);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    wrong.Enqueue($"form {i}: {ex.Message}");
                }
            }
        })).ToArray();

        await Task.Delay(1000);
        var beforeOutage = Volatile.Read(ref answered);
        await mariadb.StopAsync();
        var outageStarted = Stopwatch.StartNew();

        // Long enough for the reloader to exhaust its retries and report the outage.
        await WaitUntilAsync(async () => !(await ReadyAsync(server)).GetProperty("databaseReachable").GetBoolean(), TimeSpan.FromSeconds(20));
        while (outageStarted.Elapsed < TimeSpan.FromSeconds(4))
        {
            await Task.Delay(100);
        }

        var duringOutage = Volatile.Read(ref answered) - beforeOutage;
        // Still answering correctly, so still ready: a balancer must not pull every instance at once.
        using (var readyResponse = await server.Client.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, readyResponse.StatusCode);
        }

        var ready = await ReadyAsync(server);
        Assert.Equal("degraded", ready.GetProperty("status").GetString());
        Assert.True(ready.GetProperty("snapshotLoaded").GetBoolean());
        Assert.True(ready.GetProperty("snapshotAgeSeconds").GetDouble() >= 3);

        await mariadb.RestartAsync();
        var outageSeconds = outageStarted.Elapsed.TotalSeconds;
        await database.ExecuteAsync(
            """
            INSERT INTO sip_devices (id, username, accountid, reseller_id, dir_params, dir_vars, status)
            VALUES (90, 'after-restart', 2, 1, '{"password":"After-restart-secret"}', '{}', 0)
            """);
        var caughtUp = Stopwatch.StartNew();
        await WaitUntilAsync(async () =>
            Param(XDocument.Parse(await BodyAsync(server, Register.With("user", "after-restart"))), "a1-hash") is not null,
            TimeSpan.FromSeconds(15));
        var catchUpSeconds = caughtUp.Elapsed.TotalSeconds;

        await stop.CancelAsync();
        await Task.WhenAll(load);

        output.WriteLine($"answered: {answered} in all, {duringOutage} while stopped, outage {outageSeconds:F1} s in all; wrong or failed: {wrong.Count}; new row served {catchUpSeconds:F2} s after the restart");
        Assert.True(wrong.IsEmpty, string.Join('\n', wrong.Take(10)));
        Assert.True(duringOutage > 100, $"only {duringOutage} answers during the outage");
        Assert.True(catchUpSeconds < 15);
        Assert.Equal("ready", (await ReadyAsync(server)).GetProperty("status").GetString());
        Assert.Contains("Snapshot reload failed", server.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Service_started_without_a_reachable_database_answers_503_and_is_not_ready()
    {
        var closedPort = ClosedLoopbackPort();
        await using var server = await FsDirectoryServer.StartAsync(
            $"Server=127.0.0.1;Port={closedPort};User ID=fsdir;Password=fsdir;Database=none", waitForData: false);
        await Task.Delay(500);

        using var fetch = await server.PostAsync(Register);
        using var ready = await server.Client.GetAsync("/health/ready");
        var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, fetch.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.False(body.GetProperty("snapshotLoaded").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task Readiness_answers_quickly_even_while_the_database_is_unreachable()
    {
        var closedPort = ClosedLoopbackPort();
        await using var server = await FsDirectoryServer.StartAsync(
            $"Server=127.0.0.1;Port={closedPort};User ID=fsdir;Password=fsdir;Database=none", waitForData: false);

        var timer = Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
        {
            using var response = await server.Client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        Assert.True(timer.Elapsed < TimeSpan.FromSeconds(2), $"20 readiness checks took {timer.Elapsed}");
    }

    private static async Task<string> BodyAsync(FsDirectoryServer server, FreeSwitchForm form)
    {
        using var response = await server.PostAsync(form);
        var text = await response.Content.ReadAsStringAsync();
        return response.StatusCode == HttpStatusCode.OK ? text : throw new HttpRequestException($"HTTP {(int)response.StatusCode}");
    }

    private static async Task<JsonElement> ReadyAsync(FsDirectoryServer server)
    {
        using var response = await server.Client.GetAsync("/health/ready");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan limit)
    {
        var timer = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(timer.Elapsed < limit, $"condition not met within {limit}");
            await Task.Delay(100);
        }
    }

    private static int ClosedLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
