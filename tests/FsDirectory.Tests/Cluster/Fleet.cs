using System.Diagnostics;
using FsDirectory.Status;
using FsDirectory.Tests.EventSocket;
using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Cluster;

/// <summary>
/// Several FsDirectory processes sharing one database (a single server, or one Galera node each)
/// and one switch, the fake Event Socket node counting what it is told.
/// </summary>
public sealed class Fleet : IAsyncDisposable
{
    public static readonly TimeSpan MinReloadInterval = TimeSpan.FromSeconds(2);

    private Fleet(FakeFreeSwitch fake, List<FsDirectoryProcess> instances)
    {
        Switch = fake;
        Instances = instances;
    }

    public FakeFreeSwitch Switch { get; }

    public List<FsDirectoryProcess> Instances { get; }

    public IEnumerable<FsDirectoryProcess> Running => Instances.Where(static i => !i.HasExited);

    /// <summary>One instance per connection string, each pushing to the same switch with the shipped lease timings.</summary>
    public static async Task<Fleet> StartAsync(IEnumerable<string> connectionStrings, IDictionary<string, string?>? extra = null)
    {
        var fake = FakeFreeSwitch.Start();
        var instances = new List<FsDirectoryProcess>();
        try
        {
            var i = 0;
            foreach (var connectionString in connectionStrings)
            {
                var settings = EventSocketHarness.Settings([(fake.Address, fake.Password)], MinReloadInterval);
                settings["Cluster:InstanceName"] = $"instance{++i}";
                foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
                {
                    settings[key] = value;
                }

                instances.Add(await FsDirectoryProcess.StartAsync(connectionString, settings));
            }
        }
        catch
        {
            await DisposeAllAsync(fake, instances);
            throw;
        }

        return new Fleet(fake, instances);
    }

    /// <summary>
    /// Every running instance connected to the switch and naming the same holder, exactly one of them
    /// holding the lease; the holder's first reloadacl delivered and MinReloadInterval past, and the
    /// switch's command log cleared, so what follows is counted alone.
    /// </summary>
    public async Task WaitUntilSteadyAsync()
    {
        await Eventually.TrueAsync(async () =>
        {
            var statuses = await StatusesAsync();
            var holders = statuses.Where(static s => s.EventSocket.PushLockHeld).ToList();
            return holders.Count == 1
                && statuses.All(s => s.EventSocket.Nodes.All(static n => n.Connected) && s.Cluster.Lease.Holder == holders[0].Cluster.InstanceId);
        }, TimeSpan.FromSeconds(20), "one holder, named by every instance, all connected");
        await Eventually.TrueAsync(() => Switch.Count("reloadacl") >= 1, TimeSpan.FromSeconds(10), "the holder's first reloadacl");
        await Task.Delay(MinReloadInterval);
        Switch.ClearCommands();
    }

    public async Task<List<StatusResponse>> StatusesAsync() => [.. await Task.WhenAll(Running.Select(static i => i.StatusAsync()))];

    public async Task<FsDirectoryProcess> HolderAsync()
    {
        foreach (var instance in Running)
        {
            if ((await instance.StatusAsync()).EventSocket.PushLockHeld)
            {
                return instance;
            }
        }

        throw new InvalidOperationException("no running instance holds the lease");
    }

    /// <summary>A call from <paramref name="source"/> as FreeSWITCH posts it: true when it is transferred with the account of rule 2's account.</summary>
    public static async Task<bool> IsTransferredAsync(FsDirectoryProcess instance, string source, string number = "12066418000")
    {
        var document = await instance.Client.FetchAsync(EventSocketHarness.CallFrom(source, number));
        return Actions(document).Any(static a => a.Application == "transfer");
    }

    /// <summary>
    /// Kills the lease holder (SIGKILL: no release) and changes a rule. Exactly one survivor must
    /// take over and push within 10 s, and every survivor must then name it. Returns the time from
    /// the kill to the first reloadacl.
    /// </summary>
    public async Task<TimeSpan> KillHolderAndChangeARuleAsync(Func<string, Task> executeSql)
    {
        await WaitUntilSteadyAsync();
        var holder = await HolderAsync();
        var before = new Dictionary<FsDirectoryProcess, long>();
        foreach (var instance in Running.Where(i => i != holder))
        {
            before[instance] = (await instance.StatusAsync()).EventSocket.Nodes[0].CommandsSucceeded;
        }

        holder.Kill();
        var killed = Stopwatch.StartNew();
        await executeSql(
            """
            INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status)
            VALUES (7001, 'after the kill', '192.0.2.171/32', 2, 1, 0, 0, '', 'default', 0)
            """);
        await Eventually.TrueAsync(() => Switch.Count("reloadacl") >= 1, TimeSpan.FromSeconds(10), "a reloadacl from a survivor");
        var pushedAfter = killed.Elapsed;

        // Long enough for a second pusher to show itself (Debounce, MinReloadInterval, PeerWait).
        await Task.Delay(TimeSpan.FromSeconds(4));
        var statuses = await StatusesAsync();
        var newHolders = statuses.Where(static s => s.EventSocket.PushLockHeld).ToList();
        Assert.Single(newHolders);
        Assert.All(statuses, s => Assert.Equal(newHolders[0].Cluster.InstanceId, s.Cluster.Lease.Holder));
        var pushed = 0;
        foreach (var (instance, succeeded) in before)
        {
            if ((await instance.StatusAsync()).EventSocket.Nodes[0].CommandsSucceeded > succeeded)
            {
                pushed++;
            }
        }

        Assert.Equal(1, pushed);
        foreach (var instance in Running)
        {
            await Eventually.TrueAsync(() => IsTransferredAsync(instance, "192.0.2.171"), TimeSpan.FromSeconds(2), "survivor serves the new rule");
        }

        return pushedAfter;
    }

    public async ValueTask DisposeAsync() => await DisposeAllAsync(Switch, Instances);

    private static async Task DisposeAllAsync(FakeFreeSwitch fake, List<FsDirectoryProcess> instances)
    {
        foreach (var instance in instances)
        {
            await instance.DisposeAsync();
        }

        await fake.DisposeAsync();
    }
}
