using FsDirectory.Tests.EventSocket;

namespace FsDirectory.Tests.Proxies;

/// <summary>
/// Adding or removing a trusted proxy (plain SQL, as a DBA would) reaches the switches as `reloadacl`,
/// plus `sofia profile NAME rescan` exactly where the profile's apply-proxy-acl appears, changes or disappears.
/// </summary>
public sealed class ProxyPropagationTests
{
    private const string SecondProfile = """
        INSERT INTO sip_profiles (id, name, sip_ip, sip_port, profile_data, status) VALUES (2, 'trunks', '127.0.0.1', '5080', '{"context":"public"}', 0);
        """;

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2);

    // Longer than Debounce (300 ms) and a poll: a command still due would have arrived by then.
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);

    private static Task<EventSocketHarness> StartAsync(FakeFreeSwitch fake) =>
        EventSocketHarness.StartAsync([(fake.Address, fake.Password)], minReloadInterval: TimeSpan.Zero, seedSql: SecondProfile);

    [Fact]
    public async Task A_proxy_for_one_profile_reloads_the_acl_and_rescans_only_that_profile_when_its_list_appears_and_disappears()
    {
        await using var fake = FakeFreeSwitch.Start();
        await using var harness = await StartAsync(fake);
        await harness.WaitUntilPushingAsync(fake);

        await harness.Database.ExecuteAsync("INSERT INTO fsdir_trusted_proxies (id, name, ip, sip_profile_id) VALUES (1, 'kamailio-1', '127.0.0.20', 2)");
        await Eventually.TrueAsync(() => fake.Count("reloadacl") == 1 && fake.Count("sofia profile trunks rescan") == 1, Deadline, "reloadacl and rescan of trunks");

        // A second proxy on the same profile changes the list's nodes, not its name: reloadacl only.
        await harness.Database.ExecuteAsync("INSERT INTO fsdir_trusted_proxies (id, name, ip, sip_profile_id) VALUES (2, 'kamailio-2', '127.0.0.22', 2)");
        await Eventually.TrueAsync(() => fake.Count("reloadacl") == 2, Deadline, "second reloadacl");
        await Task.Delay(Quiet);
        // Each push sends reloadacl first, so the list exists before sofia reads the profile again.
        Assert.Equal(["reloadacl", "sofia profile trunks rescan", "reloadacl"], fake.Commands);

        await harness.Database.ExecuteAsync("DELETE FROM fsdir_trusted_proxies");
        await Eventually.TrueAsync(() => fake.Count("reloadacl") == 3 && fake.Count("sofia profile trunks rescan") == 2, Deadline, "reloadacl and rescan after removal");
        await Task.Delay(Quiet);

        Assert.Equal(0, fake.Count("sofia profile default rescan"));
        Assert.Equal(5, fake.Commands.Count);
        Assert.Null(harness.Server.Snapshot!.FindProfile("trunks")!.ProxyAcl);
    }

    [Fact]
    public async Task A_global_proxy_rescans_every_profile_and_an_inactive_one_is_not_pushed()
    {
        await using var fake = FakeFreeSwitch.Start();
        await using var harness = await StartAsync(fake);
        await harness.WaitUntilPushingAsync(fake);

        await harness.Database.ExecuteAsync("INSERT INTO fsdir_trusted_proxies (id, name, ip, sip_profile_id) VALUES (1, 'lb', '198.18.0.0/24', 0)");
        await Eventually.TrueAsync(
            () => fake.Count("reloadacl") == 1 && fake.Count("sofia profile default rescan") == 1 && fake.Count("sofia profile trunks rescan") == 1,
            Deadline, "reloadacl and a rescan of both profiles");

        // Switched off: the list and both apply-proxy-acl disappear again.
        await harness.Database.ExecuteAsync("UPDATE fsdir_trusted_proxies SET status = 1");
        await Eventually.TrueAsync(
            () => fake.Count("reloadacl") == 2 && fake.Count("sofia profile default rescan") == 2 && fake.Count("sofia profile trunks rescan") == 2,
            Deadline, "reloadacl and a rescan of both profiles after deactivation");

        // An inactive row's edit changes nothing FreeSWITCH fetches: nothing is sent.
        await harness.Database.ExecuteAsync("UPDATE fsdir_trusted_proxies SET name = 'renamed'");
        var version = harness.Server.Snapshot!.Version;
        await Eventually.TrueAsync(() => harness.Server.Snapshot!.Version > version, Deadline, "edit loaded");
        await Task.Delay(Quiet);
        Assert.Equal(6, fake.Commands.Count);
    }
}
