using FsDirectory.Tests.EventSocket;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Limits;

/// <summary>The lease holder brings every switch's mod_hash remotes in line with the node list, over fake Event Sockets.</summary>
public sealed class HashRemotePushTests
{
    // A restarted instance takes the lease after the old one's hold; under a loaded suite that once took over 30 s.
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static Dictionary<string, string?> Settings(params (FakeFreeSwitch Node, string Name)[] nodes)
    {
        var settings = EventSocketHarness.Settings(nodes.Select(n => (n.Node.Address, n.Node.Password)));
        for (var i = 0; i < nodes.Length; i++)
        {
            settings[$"EventSocket:Nodes:{i}:SwitchName"] = nodes[i].Name;
        }

        settings["Limits:Enabled"] = "true";
        return settings;
    }

    private static string[] Loaded(FakeFreeSwitch node) =>
        [.. (node.Variable("fsdir_hash_remotes") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(e => e[..e.LastIndexOf('/')])];

    [Fact]
    public async Task A_node_list_change_kills_the_removed_remote_and_rescans_every_switch()
    {
        await using var a = FakeFreeSwitch.Start();
        await using var b = FakeFreeSwitch.Start();
        await using var c = FakeFreeSwitch.Start();
        await using var database = await TestDatabase.CreateAsync();

        await using (var first = await FsDirectoryServer.StartAsync(database.ConnectionString, Settings((a, "fs-a"), (b, "fs-b"), (c, "fs-c"))))
        {
            await Eventually.TrueAsync(() => new[] { a, b, c }.All(n => n.Count("hash_remote rescan") == 1 && Loaded(n).Length == 2),
                Deadline, "every switch rescanned once and was given the other two");
            Assert.Equal(["fs-b", "fs-c"], Loaded(a));
            Assert.Equal(["fs-a", "fs-c"], Loaded(b));
            Assert.Equal(["fs-a", "fs-b"], Loaded(c));
            Assert.DoesNotContain(a.Commands, command => command.StartsWith("hash_remote kill", StringComparison.Ordinal));
        }

        foreach (var node in new[] { a, b, c })
        {
            node.ClearCommands();
        }

        // Restarted without fs-c: the switches still poll it until told to kill it (a rescan only adds).
        await using var second = await FsDirectoryServer.StartAsync(database.ConnectionString, Settings((a, "fs-a"), (b, "fs-b")));

        try
        {
            await Eventually.TrueAsync(() => a.Count("hash_remote rescan") == 1 && b.Count("hash_remote rescan") == 1, Deadline, "both remaining switches rescanned");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // What the switches were sent and what the instance logged say which step never came.
            throw new Xunit.Sdk.XunitException($"{ex.Message}\na: {string.Join(" | ", a.Commands)}\nb: {string.Join(" | ", b.Commands)}\n"
                + string.Join('\n', second.Logs.Lines.TakeLast(60)));
        }

        Assert.Equal(["hash_remote kill fs-c", "hash_remote rescan"], a.Commands.Where(x => x.StartsWith("hash_remote", StringComparison.Ordinal)));
        Assert.Equal(["hash_remote kill fs-c", "hash_remote rescan"], b.Commands.Where(x => x.StartsWith("hash_remote", StringComparison.Ordinal)));
        Assert.Equal(["fs-b"], Loaded(a));
        Assert.Equal(["fs-a"], Loaded(b));
        Assert.Empty(c.Commands);
    }

    [Fact]
    public async Task Switches_already_given_the_same_list_are_not_rescanned_again()
    {
        await using var a = FakeFreeSwitch.Start();
        await using var b = FakeFreeSwitch.Start();
        await using var database = await TestDatabase.CreateAsync();
        var settings = Settings((a, "fs-a"), (b, "fs-b"));
        await using (await FsDirectoryServer.StartAsync(database.ConnectionString, settings))
        {
            await Eventually.TrueAsync(() => a.Count("hash_remote rescan") == 1 && b.Count("hash_remote rescan") == 1, Deadline, "the first rescan");
        }

        a.ClearCommands();
        await using var again = await FsDirectoryServer.StartAsync(database.ConnectionString, settings);

        // Holding the lease with both switches connected, it has checked their remotes (between jobs) or is about to.
        await Eventually.TrueAsync(async () =>
        {
            var status = await EventSocketHarness.StatusOf(again);
            return status.EventSocket.PushLockHeld && status.EventSocket.Nodes.All(n => n.Connected);
        }, Deadline, "the new instance holding the lease, both switches connected");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(0, a.Count("hash_remote rescan"));
    }
}
