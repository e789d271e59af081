using System.Diagnostics;
using FsDirectory.EventSocket;
using FsDirectory.Status;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.EventSocket;

/// <summary>
/// A switch whose <c>reloadacl</c> takes far longer than any Event Socket timeout, as a real one
/// does at 100k rules (22-63 s): the pusher must never have two reloads in flight on it, never resend
/// one that may still be running, and fold whatever arrives meanwhile into one follow-up. The fake's
/// reload takes seconds, not a minute, with the service's budgets scaled down to match.
/// </summary>
public sealed class SlowReloadTests
{
    private static readonly TimeSpan Reload = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private static Dictionary<string, string?> Settings(FakeFreeSwitch fake, TimeSpan jobTimeout)
    {
        var settings = EventSocketHarness.Settings([(fake.Address, fake.Password)], TimeSpan.FromMilliseconds(500));
        settings["EventSocket:CommandTimeout"] = "00:00:01";
        settings["EventSocket:ConnectTimeout"] = "00:00:01";
        settings["EventSocket:JobTimeout"] = jobTimeout.ToString();
        settings["EventSocket:MaxReconnectInterval"] = "00:00:00.500";
        return settings;
    }

    private static Task<int> InsertRulesAsync(TestDatabase database, int firstId, int count) =>
        database.ExecuteAsync(string.Concat(Enumerable.Range(firstId, count).Select(id =>
            $"INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status) VALUES ({id}, 'slow {id}', '100.64.{id / 250}.{id % 250}/32', 2, 1, 0, 0, '', 'default', 0);\n")));

    private static Task<TimeSpan> ReloadRunningAsync(FakeFreeSwitch fake, int number) =>
        Eventually.TrueAsync(() => fake.Count("reloadacl") == number && fake.ReloadsRunning == 1, Deadline, $"reloadacl #{number} running");

    private static double SecondsBetween(FakeFreeSwitch fake, int earlier, int later) =>
        Stopwatch.GetElapsedTime(fake.Arrivals("reloadacl")[earlier - 1], fake.Arrivals("reloadacl")[later - 1]).TotalSeconds;

    /// <summary>A slow switch, a database and the service, once the service's start-up reload runs.</summary>
    private sealed record Running(FakeFreeSwitch Fake, TestDatabase Database, FsDirectoryServer Server) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            await Database.DisposeAsync();
            await Fake.DisposeAsync();
        }
    }

    private static async Task<Running> FirstReloadRunningAsync(TimeSpan reload, TimeSpan jobTimeout)
    {
        var fake = FakeFreeSwitch.Start();
        fake.ReloadDelay = reload;
        var database = await TestDatabase.CreateAsync(seed: true);
        var running = new Running(fake, database, await FsDirectoryServer.StartAsync(database.ConnectionString, Settings(fake, jobTimeout)));
        await ReloadRunningAsync(fake, 1);
        return running;
    }

    private static async Task<EventSocketNodeStatus> NodeAsync(FsDirectoryServer server) => (await EventSocketHarness.StatusOf(server)).EventSocket.Nodes[0];

    [Fact]
    public async Task A_switch_that_reloads_for_longer_than_every_timeout_and_refuses_connections_meanwhile_never_has_two_reloads_in_flight()
    {
        await using var fake = FakeFreeSwitch.Start();
        fake.ReloadDelay = Reload;
        fake.RefuseWhileReloading = true;
        await using var database = await TestDatabase.CreateAsync(seed: true);
        var settings = Settings(fake, JobTimeout);
        var a = await FsDirectoryServer.StartAsync(database.ConnectionString, settings);
        FsDirectoryServer? b = null;
        FsDirectoryServer? c = null;
        try
        {
            // 1. The start-up reload; the connection is cut while it runs and changes arrive. Its result
            // is lost with the connection, so it counts as running until JobTimeout: the follow-up
            // comes only then, and it is one reload for the lost one and all three changes.
            await ReloadRunningAsync(fake, 1);
            await InsertRulesAsync(database, 5001, 3);
            fake.DropConnections();
            await ReloadRunningAsync(fake, 2);
            Assert.True(fake.RefusedConnections > 0, "reconnects were attempted while the reload ran");
            Assert.True(SecondsBetween(fake, 1, 2) >= JobTimeout.TotalSeconds - 0.5, $"the lost reload was resent after {SecondsBetween(fake, 1, 2):F1} s");
            Assert.True(a.Snapshot!.UsableRules.Count(r => r.Id is >= 5001 and <= 5003) == 3);
            Assert.Equal(1.0, MetricsText.Value(await MetricsText.ScrapeAsync(a.Client), "fsdir_esl_job_in_flight", $"node=\"{fake.Address}\""));

            // 2. Connected this time: three more changes while it runs become one follow-up, and the
            // status and metrics show how long the reload took.
            await InsertRulesAsync(database, 5011, 3);
            await ReloadRunningAsync(fake, 3);
            await Eventually.TrueAsync(() => fake.ReloadsCompleted == 3, Deadline, "reloadacl #3 done");
            await Task.Delay(Reload + TimeSpan.FromSeconds(2));
            Assert.Equal(3, fake.Count("reloadacl"));
            await Eventually.TrueAsync(async () => (await NodeAsync(a)).JobInFlight is null, Deadline, "the result of #3 seen");
            var node = await NodeAsync(a);
            Assert.InRange(node.LastReloadSeconds!.Value, Reload.TotalSeconds - 0.2, 60);
            var metrics = await MetricsText.ScrapeAsync(a.Client);
            Assert.InRange(MetricsText.Value(metrics, "fsdir_esl_last_reload_seconds", $"node=\"{fake.Address}\""), Reload.TotalSeconds - 0.2, 60);
            Assert.Equal(0.0, MetricsText.Value(metrics, "fsdir_esl_job_in_flight", $"node=\"{fake.Address}\""));

            // 3. The service restarts while a reload runs and before it could see the result. The
            // next start finds the job marked on the switch and does not resend it before JobTimeout
            // from its start (the next test shows the wait itself; here the switch refuses it anyway).
            await InsertRulesAsync(database, 5021, 1);
            await ReloadRunningAsync(fake, 4);
            fake.DropConnections();
            await a.DisposeAsync();
            b = await FsDirectoryServer.StartAsync(database.ConnectionString, settings);
            await ReloadRunningAsync(fake, 5);
            Assert.True(SecondsBetween(fake, 4, 5) >= JobTimeout.TotalSeconds - 0.5, $"the predecessor's reload was resent after {SecondsBetween(fake, 4, 5):F1} s");

            // 4. A second instance takes the lease over from the first, which stops while its reload runs.
            c = await FsDirectoryServer.StartAsync(database.ConnectionString, settings);
            await Eventually.TrueAsync(async () => (await NodeAsync(c)).Connected && fake.ReloadsRunning == 0, Deadline, "the second instance connected");
            await InsertRulesAsync(database, 5031, 1);
            await ReloadRunningAsync(fake, 6);
            fake.DropConnections();
            await b.DisposeAsync();
            b = null;
            await Eventually.TrueAsync(async () => (await EventSocketHarness.StatusOf(c)).EventSocket.PushLockHeld, Deadline, "the takeover");
            await ReloadRunningAsync(fake, 7);
            Assert.True(SecondsBetween(fake, 6, 7) >= JobTimeout.TotalSeconds - 0.5, $"the reload was resent {SecondsBetween(fake, 6, 7):F1} s after a takeover");

            Assert.Equal(1, fake.MaxReloadsRunning);
            Assert.Equal(0, fake.ReloadsStartedWhileRunning);
        }
        finally
        {
            await a.DisposeAsync();
            if (b is not null)
            {
                await b.DisposeAsync();
            }

            if (c is not null)
            {
                await c.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_restarted_service_that_can_connect_during_its_predecessors_reload_waits_for_that_reloads_result()
    {
        await using var fake = FakeFreeSwitch.Start();
        // Runs until the test ends it; a JobTimeout far beyond the test's deadline: only the BACKGROUND_JOB can end the wait.
        fake.ReloadDelay = TimeSpan.FromMinutes(5);
        await using var database = await TestDatabase.CreateAsync(seed: true);
        var settings = Settings(fake, TimeSpan.FromMinutes(5));
        var a = await FsDirectoryServer.StartAsync(database.ConnectionString, settings);
        await ReloadRunningAsync(fake, 1);
        fake.ReloadDelay = TimeSpan.Zero;
        await a.DisposeAsync();

        await using var b = await FsDirectoryServer.StartAsync(database.ConnectionString, settings);
        await Eventually.TrueAsync(async () => await NodeAsync(b) is { Connected: true, JobInFlight: "reloadacl", JobStartedHere: false }, Deadline,
            "connected while the predecessor's reload runs, and waiting for it");
        await Eventually.TrueAsync(async () => (await EventSocketHarness.StatusOf(b)).EventSocket.PushLockHeld, Deadline, "the lease");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(1, fake.Count("reloadacl"));
        fake.FinishRunningReloads();
        await Eventually.TrueAsync(() => fake.Count("reloadacl") == 2, Deadline, "the new holder's own reloadacl, after the first one ended");

        Assert.Equal(0, fake.ReloadsStartedWhileRunning);
        Assert.Equal(1, fake.MaxReloadsRunning);
        // Its own reload's result seen, the pusher takes its marker off the switch.
        await Eventually.TrueAsync(async () => fake.Variable(JobMarker.Variable) is null && (await NodeAsync(b)).JobInFlight is null, Deadline, "the marker cleared");
    }

    [Fact]
    public async Task A_reload_that_outlasts_the_job_timeout_on_a_connection_that_stayed_open_is_awaited_and_not_sent_again()
    {
        await using var running = await FirstReloadRunningAsync(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(1));
        var (fake, server) = (running.Fake, running.Server);

        await Eventually.TrueAsync(() => fake.ReloadsCompleted == 1, Deadline, "the slow reload done");
        await Eventually.TrueAsync(async () => (await NodeAsync(server)).LastReloadSeconds is not null, Deadline, "its result seen");

        Assert.Equal(1, fake.Count("reloadacl"));
        Assert.Equal(0, fake.ReloadsStartedWhileRunning);
        Assert.InRange((await NodeAsync(server)).LastReloadSeconds!.Value, 3.8, 60);
    }

    [Fact]
    public async Task A_switch_restart_ends_the_reload_it_was_running_and_it_gets_a_new_one_without_waiting_for_the_job_timeout()
    {
        await using var running = await FirstReloadRunningAsync(TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5));
        var (fake, server) = (running.Fake, running.Server);
        var before = (await NodeAsync(server)).SwitchCoreUuid;

        fake.Stop();
        fake.ReloadDelay = TimeSpan.Zero;
        fake.Restart();

        await Eventually.TrueAsync(() => fake.Count("reloadacl") == 2 && fake.ReloadsCompleted == 1, Deadline, "a reloadacl for the restarted switch");
        var node = await NodeAsync(server);
        Assert.Equal(fake.CoreUuid, node.SwitchCoreUuid);
        Assert.NotEqual(before, node.SwitchCoreUuid);
    }

    [Fact]
    public void A_job_marker_reads_back_as_written_and_anything_else_on_the_switch_is_no_marker()
    {
        var written = new JobMarker(Guid.NewGuid().ToString(), "reloadacl", DateTimeOffset.FromUnixTimeMilliseconds(1_765_000_000_123), true);

        Assert.True(JobMarker.TryParse(written.ToString(), out var read));
        Assert.Equal((written.JobUuid, written.Command, written.StartedAt), (read.JobUuid, read.Command, read.StartedAt));
        Assert.False(read.StartedHere);
        foreach (var other in new[] { "", "-ERR", "x;1;reloadacl", $"{Guid.NewGuid()};1;reloadxml", $"{Guid.NewGuid()};-1;rescan", $"{Guid.NewGuid()};99999999999999999999;rescan", $"{Guid.NewGuid()};1;rescan;x" })
        {
            Assert.False(JobMarker.TryParse(other, out _), other);
        }
    }
}
