using System.Diagnostics;
using FsDirectory.Tests.EventSocket;
using FsDirectory.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FsDirectory.Tests.Cluster;

/// <summary>The election on one MariaDB server, where it must behave as on a cluster.</summary>
public sealed class SingleServerLeaseTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_rule_inserted_while_the_only_instance_was_restarting_reaches_the_switch_when_it_is_back()
    {
        await using var fake = FakeFreeSwitch.Start();
        var harness = await EventSocketHarness.StartAsync([(fake.Address, fake.Password)]);
        await using var database = harness.Database;
        await harness.WaitUntilPushingAsync(fake);
        await harness.Server.DisposeAsync();

        await harness.InsertRuleAsync(904, "192.0.2.204/32");
        await using var restarted = await FsDirectoryServer.StartAsync(database.ConnectionString, EventSocketHarness.Settings([(fake.Address, fake.Password)]));

        // The restarted instance takes the lease as a new holder: it cannot know what the switch missed.
        await Eventually.TrueAsync(() => fake.Count("reloadacl") == 1, TimeSpan.FromSeconds(10), "reloadacl from the restarted instance");
        Assert.Contains(restarted.Snapshot!.UsableRules, r => r.Id == 904);
    }

    [Fact]
    public async Task A_killed_holder_is_replaced_within_ten_seconds_by_exactly_one_of_the_others()
    {
        await using var database = await TestDatabase.CreateAsync(seed: true);
        await using var fleet = await Fleet.StartAsync(Enumerable.Repeat(database.ConnectionString, 3));

        var took = await fleet.KillHolderAndChangeARuleAsync(sql => database.ExecuteAsync(sql));

        output.WriteLine($"single server: holder killed -> reloadacl from its successor in {took.TotalSeconds:F1} s");
        Assert.True(took <= TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_stopped_holder_hands_the_lease_over_at_once()
    {
        await using var database = await TestDatabase.CreateAsync(seed: true);
        await using var fleet = await Fleet.StartAsync(Enumerable.Repeat(database.ConnectionString, 2));
        await fleet.WaitUntilSteadyAsync();
        var holder = await fleet.HolderAsync();
        var holderId = (await holder.StatusAsync()).Cluster.InstanceId;

        await holder.StopAsync();

        // Released, not timed out: well under TakeoverAfter (6 s).
        var took = await Eventually.TrueAsync(async () => (await fleet.StatusesAsync()).Single().EventSocket.PushLockHeld, TimeSpan.FromSeconds(3), "the other instance holds the lease");
        output.WriteLine($"single server: holder stopped -> successor holds the lease in {took.TotalSeconds:F1} s");
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT COUNT(*) FROM fsdir_instances WHERE instance_id = @holderId", new { holderId }));
    }

    [Fact]
    public async Task An_instance_dead_for_longer_than_TakeoverAfter_does_not_hold_up_the_next_holders_push()
    {
        // Long enough that a row counted as live from the moment the newcomer first reads it would hold its
        // push up for seconds more than the bound below.
        var takeoverAfter = TimeSpan.FromSeconds(10);
        var timings = new Dictionary<string, string?> { ["Cluster:TakeoverAfter"] = takeoverAfter.ToString(), ["Cluster:PeerWait"] = "00:00:10" };
        await using var database = await TestDatabase.CreateAsync(seed: true);
        await using var fleet = await Fleet.StartAsync(Enumerable.Repeat(database.ConnectionString, 2), timings);
        await fleet.WaitUntilSteadyAsync();
        var holder = await fleet.HolderAsync();
        var dead = fleet.Running.Single(i => i != holder);
        var deadId = (await dead.StatusAsync()).Cluster.InstanceId;
        dead.Kill();
        var killed = Stopwatch.StartNew();

        // A change the dead instance never served: its row's digest differs from what the living serve.
        await database.ExecuteAsync(
            """
            INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status)
            VALUES (7002, 'after the kill', '192.0.2.172/32', 2, 1, 0, 0, '', 'default', 0)
            """);
        await Eventually.TrueAsync(() => fleet.Switch.Count("reloadacl") >= 1, TimeSpan.FromSeconds(15), "the holder's push of the change");
        var staleFor = takeoverAfter + TimeSpan.FromSeconds(1) - killed.Elapsed;
        await Task.Delay(staleFor > Fleet.MinReloadInterval ? staleFor : Fleet.MinReloadInterval);

        var settings = EventSocketHarness.Settings([(fleet.Switch.Address, fleet.Switch.Password)], Fleet.MinReloadInterval);
        settings["Cluster:InstanceName"] = "newcomer";
        foreach (var (key, value) in timings)
        {
            settings[key] = value;
        }

        await using var newcomer = await FsDirectoryProcess.StartAsync(database.ConnectionString, settings);
        global::FsDirectory.Cluster.InstanceView? seen = null;
        await Eventually.TrueAsync(async () => (seen = (await newcomer.StatusAsync()).Cluster.Instances.FirstOrDefault(i => i.InstanceId == deadId)) is not null,
            TimeSpan.FromSeconds(5), "the newcomer reads the dead instance's row");
        output.WriteLine($"newcomer's view of the dead instance: live {seen!.Live}, heartbeat {seen.SecondsSinceHeartbeat:F1} s ago ({killed.Elapsed.TotalSeconds:F1} s after the kill)");
        Assert.False(seen.Live);
        Assert.True(seen.SecondsSinceHeartbeat >= takeoverAfter.TotalSeconds, $"heartbeat {seen.SecondsSinceHeartbeat:F1} s ago");

        fleet.Switch.ClearCommands();
        await holder.StopAsync();
        var took = await Eventually.TrueAsync(() => fleet.Switch.Count("reloadacl") >= 1, TimeSpan.FromSeconds(15), "the newcomer's reloadacl as the new holder");
        output.WriteLine($"holder stopped -> newcomer's reloadacl in {took.TotalSeconds:F1} s (PeerWait 10 s)");
        Assert.True(took < TimeSpan.FromSeconds(3), $"reloadacl {took.TotalSeconds:F1} s after the holder stopped:\n{newcomer.Output}");
        Assert.DoesNotContain("Pushing although", newcomer.Output, StringComparison.Ordinal);
    }
}
