using System.Text;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.EventSocket;

public sealed class ChangePropagationTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task A_wrong_password_is_not_accepted_and_the_status_says_so()
    {
        await using var fake = FakeFreeSwitch.Start("ClueCon");
        await using var harness = await EventSocketHarness.StartAsync([(fake.Address, "not-the-secret")]);

        await Eventually.TrueAsync(() => fake.AuthFailures > 0, TimeSpan.FromSeconds(5), "an auth attempt");
        await Eventually.TrueAsync(async () => (await harness.StatusAsync()).EventSocket.Nodes[0].LastError is not null, TimeSpan.FromSeconds(5), "error reported");
        var node = (await harness.StatusAsync()).EventSocket.Nodes[0];

        Assert.False(node.Connected);
        Assert.Contains("authentication refused", node.LastError, StringComparison.Ordinal);
        Assert.Equal(0, fake.AuthSuccesses);
        Assert.Empty(fake.Commands);
        Assert.DoesNotContain("not-the-secret", harness.Server.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_password_is_retried_less_and_less_often()
    {
        await using var fake = FakeFreeSwitch.Start("ClueCon");
        // ReconnectInterval is 200 ms here: a node retried at that pace would knock about 15 times in 3 s.
        await using var harness = await EventSocketHarness.StartAsync([(fake.Address, "not-the-secret")]);
        await Eventually.TrueAsync(() => fake.AuthFailures > 0, TimeSpan.FromSeconds(5), "a first auth attempt");

        await Task.Delay(TimeSpan.FromSeconds(3));

        // 200 ms, 400 ms, 800 ms, 1.6 s between attempts: 4 or 5 attempts in the first 3 s.
        Assert.InRange(fake.AuthFailures, 2, 6);
        Assert.Contains("authentication refused", (await harness.StatusAsync()).EventSocket.Nodes[0].LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_burst_of_1000_sql_inserts_leads_to_at_most_two_reloadacl()
    {
        await using var fake = FakeFreeSwitch.Start();
        await using var harness = await EventSocketHarness.StartAsync([(fake.Address, fake.Password)]);
        await harness.WaitUntilPushingAsync(fake);
        var before = harness.Server.Snapshot!.UsableRules.Count;

        // 1,000 separate autocommitted statements, the way a DBA's seeding script arrives.
        var sql = new StringBuilder();
        for (var i = 0; i < 1000; i++)
        {
            sql.Append(
                $"INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status) VALUES ({1000 + i}, 'bulk {i}', '10.{i / 250}.{i % 250}.1/32', 2, 1, 0, 0, '', 'default', 0);\n");
        }

        await harness.Database.ExecuteAsync(sql.ToString());
        await Eventually.TrueAsync(() => harness.Server.Snapshot!.UsableRules.Count == before + 1000, TimeSpan.FromSeconds(10), "all 1000 rules loaded");
        await Eventually.TrueAsync(() => fake.Count("reloadacl") >= 1, TimeSpan.FromSeconds(5), "a reloadacl");

        // Quiet window longer than MinReloadInterval + Debounce: a third reload would have arrived by now.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.InRange(fake.Count("reloadacl"), 1, 2);
    }

    [Fact]
    public async Task A_dead_node_does_not_delay_the_live_one()
    {
        await using var live = FakeFreeSwitch.Start();
        var dead = $"127.0.0.1:{FakeFreeSwitch.ClosedPort()}";
        await using var harness = await EventSocketHarness.StartAsync([(dead, "ClueCon"), (live.Address, live.Password)]);
        await Eventually.TrueAsync(async () =>
        {
            var status = await harness.StatusAsync();
            return status.EventSocket.PushLockHeld && status.EventSocket.Nodes[1].Connected;
        }, TimeSpan.FromSeconds(10), "live node connected");
        await Eventually.TrueAsync(() => live.Count("reloadacl") == 1, TimeSpan.FromSeconds(5), "the new holder's reloadacl");
        await Task.Delay(harness.MinReloadInterval);
        live.ClearCommands();

        await harness.InsertRuleAsync(900, "192.0.2.200/32");
        var took = await Eventually.TrueAsync(() => live.Count("reloadacl") == 1, Deadline, "reloadacl on the live node");

        var status = await harness.StatusAsync();
        Assert.False(status.EventSocket.Nodes[0].Connected);
        Assert.NotNull(status.EventSocket.Nodes[0].LastError);
        Assert.Equal("reloadacl", status.EventSocket.Nodes[1].LastCommand);
        Assert.NotNull(status.EventSocket.Nodes[1].LastSuccess);
        Assert.True(took < Deadline);
    }

    [Fact]
    public async Task A_node_that_restarts_gets_a_reloadacl_after_reconnecting()
    {
        await using var fake = FakeFreeSwitch.Start();
        await using var harness = await EventSocketHarness.StartAsync([(fake.Address, fake.Password)]);
        await harness.WaitUntilPushingAsync(fake);

        fake.Stop();
        await Eventually.TrueAsync(async () => !(await harness.StatusAsync()).EventSocket.Nodes[0].Connected, TimeSpan.FromSeconds(5), "disconnect noticed");
        fake.Restart();

        await Eventually.TrueAsync(() => fake.Count("reloadacl") == 1, TimeSpan.FromSeconds(5), "reloadacl after reconnect");
        Assert.True((await harness.StatusAsync()).EventSocket.Nodes[0].Connected);
    }

    [Fact]
    public async Task A_connection_cut_to_a_switch_that_did_not_restart_sends_nothing_on_reconnect()
    {
        await using var fake = FakeFreeSwitch.Start();
        await using var harness = await EventSocketHarness.StartAsync([(fake.Address, fake.Password)]);
        await harness.WaitUntilPushingAsync(fake);
        var logins = fake.AuthSuccesses;

        fake.DropConnections();
        await Eventually.TrueAsync(async () => fake.AuthSuccesses > logins && (await harness.StatusAsync()).EventSocket.Nodes[0].Connected,
            TimeSpan.FromSeconds(5), "reconnected");
        // Longer than Debounce plus MinReloadInterval: a reload on reconnect would have arrived by now.
        await Task.Delay(harness.MinReloadInterval + TimeSpan.FromSeconds(1));

        Assert.Empty(fake.Commands);
        Assert.Equal(fake.CoreUuid, (await harness.StatusAsync()).EventSocket.Nodes[0].SwitchCoreUuid);
    }

    [Fact]
    public async Task A_direct_sql_insert_authenticates_calls_within_two_seconds_and_reaches_the_node()
    {
        await using var fake = FakeFreeSwitch.Start();
        await using var harness = await EventSocketHarness.StartAsync([(fake.Address, fake.Password)]);
        await harness.WaitUntilPushingAsync(fake);
        Assert.False(await harness.IsTransferredAsync("192.0.2.201", "12066418000"));

        await harness.InsertRuleAsync(901, "192.0.2.201/32");
        var answered = await Eventually.TrueAsync(() => harness.IsTransferredAsync("192.0.2.201", "12066418000"), Deadline, "dialplan answer changed");
        await Eventually.TrueAsync(() => fake.Count("reloadacl") == 1, Deadline, "reloadacl reached the node");

        Assert.True(answered < Deadline);
        Assert.DoesNotContain(fake.Commands, c => c.StartsWith("sofia", StringComparison.Ordinal));
        var metrics = await MetricsText.ScrapeAsync(harness.Server.Client);
        Assert.Equal(1, MetricsText.Value(metrics, "fsdir_esl_push_lease_held"));
        // The new holder's reloadacl at start-up, then this one; each counts once its result (BACKGROUND_JOB) is in.
        await Eventually.TrueAsync(
            async () => MetricsText.Value(await MetricsText.ScrapeAsync(harness.Server.Client), "fsdir_esl_pushes_total", $"node=\"{fake.Address}\"", "command=\"reloadacl\"", "result=\"ok\"") == 2,
            Deadline, "both reloads counted ok");
    }

    [Fact]
    public async Task A_profile_settings_change_sends_sofia_profile_rescan_and_no_reloadacl()
    {
        await using var fake = FakeFreeSwitch.Start();
        await using var harness = await EventSocketHarness.StartAsync([(fake.Address, fake.Password)]);
        await harness.WaitUntilPushingAsync(fake);

        await harness.Database.ExecuteAsync("UPDATE sip_profiles SET profile_data = JSON_SET(profile_data, '$.nonce-ttl', '90') WHERE name = 'default'");

        await Eventually.TrueAsync(() => fake.Count("sofia profile default rescan") == 1, Deadline, "rescan on the node");
        Assert.Equal(0, fake.Count("reloadacl"));
    }

    [Fact]
    public async Task A_device_edit_sends_nothing_because_directory_answers_are_not_cached()
    {
        await using var fake = FakeFreeSwitch.Start();
        await using var harness = await EventSocketHarness.StartAsync([(fake.Address, fake.Password)]);
        await harness.WaitUntilPushingAsync(fake);
        var version = harness.Server.Snapshot!.Version;

        await harness.Database.ExecuteAsync("UPDATE sip_devices SET dir_params = '{\"password\":\"changed-secret\"}' WHERE username = '1002'");
        await Eventually.TrueAsync(() => harness.Server.Snapshot!.Version > version, Deadline, "device change loaded");
        // A push would follow within Debounce; the rule edit after it proves the node was listening.
        await harness.InsertRuleAsync(902, "192.0.2.202/32");
        await Eventually.TrueAsync(() => fake.Count("reloadacl") == 1, TimeSpan.FromSeconds(5), "reloadacl for the rule");

        Assert.Equal(["reloadacl"], fake.Commands);
    }

    [Fact]
    public async Task A_rule_edit_that_leaves_every_lists_networks_as_they_were_sends_no_reloadacl()
    {
        await using var fake = FakeFreeSwitch.Start();
        await using var harness = await EventSocketHarness.StartAsync([(fake.Address, fake.Password)]);
        await harness.WaitUntilPushingAsync(fake);
        var version = harness.Server.Snapshot!.Version;

        // A new tech prefix and name on the rule: its answers change, the networks acl.conf allows do not.
        await harness.Database.ExecuteAsync("UPDATE ip_map SET prefix = '4444*', name = 'renamed' WHERE id = 1");
        await Eventually.TrueAsync(() => harness.Server.Snapshot!.Version > version, Deadline, "rule change applied");
        await harness.InsertRuleAsync(903, "192.0.2.203/32");
        await Eventually.TrueAsync(() => fake.Count("reloadacl") == 1, TimeSpan.FromSeconds(5), "reloadacl for the new network");

        Assert.Equal(["reloadacl"], fake.Commands);
    }

    [Fact]
    public async Task Two_instances_on_one_database_push_each_change_once()
    {
        await using var fake = FakeFreeSwitch.Start();
        await using var harness = await EventSocketHarness.StartAsync([(fake.Address, fake.Password)]);
        await using var second = await FsDirectoryServer.StartAsync(harness.Database.ConnectionString, EventSocketHarness.Settings([(fake.Address, fake.Password)]));
        await Eventually.TrueAsync(async () =>
        {
            var a = await harness.StatusAsync();
            var b = await EventSocketHarness.StatusOf(second);
            return a.EventSocket.Nodes[0].Connected && b.EventSocket.Nodes[0].Connected
                && (a.EventSocket.PushLockHeld ^ b.EventSocket.PushLockHeld);
        }, TimeSpan.FromSeconds(10), "both connected, exactly one holds the push lock");
        await Eventually.TrueAsync(() => fake.Count("reloadacl") >= 1, TimeSpan.FromSeconds(5), "the holder's first reloadacl");
        await Task.Delay(harness.MinReloadInterval);
        Assert.Equal(1, fake.Count("reloadacl"));
        fake.ClearCommands();

        await harness.InsertRuleAsync(903, "192.0.2.203/32");
        await Eventually.TrueAsync(() => fake.Count("reloadacl") >= 1, Deadline, "reloadacl");
        await Eventually.TrueAsync(() => second.Snapshot!.UsableRules.Any(r => r.Id == 903), Deadline, "second instance loaded the rule");
        await Task.Delay(TimeSpan.FromSeconds(1));

        Assert.Equal(1, fake.Count("reloadacl"));
    }
}
