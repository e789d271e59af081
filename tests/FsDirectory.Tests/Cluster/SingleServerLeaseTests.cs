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
}
