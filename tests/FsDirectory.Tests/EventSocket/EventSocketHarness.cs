using System.Diagnostics;
using System.Net.Http.Json;
using System.Xml.Linq;
using FsDirectory.Status;
using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.EventSocket;

/// <summary>A demo database, the real service, and the Event Socket nodes it is configured with.</summary>
public sealed class EventSocketHarness : IAsyncDisposable
{
    private EventSocketHarness(TestDatabase database, FsDirectoryServer server, TimeSpan minReloadInterval)
    {
        Database = database;
        Server = server;
        MinReloadInterval = minReloadInterval;
    }

    public TimeSpan MinReloadInterval { get; }

    public TestDatabase Database { get; }
    public FsDirectoryServer Server { get; }

    /// <param name="seedSql">Rows added to the demo seed before the service starts, so that they cause no push.</param>
    public static async Task<EventSocketHarness> StartAsync(IEnumerable<(string Address, string Password)> nodes, TimeSpan? minReloadInterval = null, string? seedSql = null)
    {
        var database = await TestDatabase.CreateAsync(seed: true);
        if (seedSql is not null)
        {
            await database.ExecuteAsync(seedSql);
        }

        var server = await FsDirectoryServer.StartAsync(database.ConnectionString, Settings(nodes, minReloadInterval));
        return new EventSocketHarness(database, server, minReloadInterval ?? DefaultMinReloadInterval);
    }

    public static Dictionary<string, string?> Settings(IEnumerable<(string Address, string Password)> nodes, TimeSpan? minReloadInterval = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["EventSocket:ReconnectInterval"] = "00:00:00.200",
            ["EventSocket:MinReloadInterval"] = (minReloadInterval ?? DefaultMinReloadInterval).ToString(),
        };
        var i = 0;
        foreach (var (address, password) in nodes)
        {
            settings[$"EventSocket:Nodes:{i}:Address"] = address;
            settings[$"EventSocket:Nodes:{i}:Password"] = password;
            i++;
        }

        return settings;
    }

    private static readonly TimeSpan DefaultMinReloadInterval = TimeSpan.FromSeconds(2);

    public Task<StatusResponse> StatusAsync() => StatusOf(Server);

    public static async Task<StatusResponse> StatusOf(FsDirectoryServer server) =>
        (await server.Client.GetFromJsonAsync<StatusResponse>("/api/status"))!;

    /// <summary>
    /// Waits until every node is connected, this instance holds the push lease and its first
    /// reloadacl as a new holder has reached every given node, then lets MinReloadInterval
    /// pass and forgets the commands: a change made next is pushed at once and counted alone.
    /// </summary>
    public async Task WaitUntilPushingAsync(FakeFreeSwitch first, params FakeFreeSwitch[] more)
    {
        FakeFreeSwitch[] nodes = [first, .. more];
        await Eventually.TrueAsync(async () =>
        {
            var status = await StatusAsync();
            return status.EventSocket.PushLockHeld && status.EventSocket.Nodes.All(n => n.Connected);
        }, TimeSpan.FromSeconds(10), "nodes connected and push lock held");
        await Eventually.TrueAsync(() => nodes.All(n => n.Count("reloadacl") >= 1), TimeSpan.FromSeconds(10), "the new holder's reloadacl");
        await Task.Delay(MinReloadInterval);
        foreach (var node in nodes)
        {
            node.ClearCommands();
        }
    }

    /// <summary>An IP-auth call from <paramref name="source"/> on the default profile, as FreeSWITCH posts it.</summary>
    public static FreeSwitchForm CallFrom(string source, string number) =>
        FreeSwitchForm.Load("dialplan-acl-authed-tech-prefix")
            .With("Caller-Network-Addr", source)
            .With("Hunt-Network-Addr", source)
            .With("Caller-Destination-Number", number)
            .With("Hunt-Destination-Number", number)
            .With("variable_sofia_profile_name", "default");

    public async Task<bool> IsTransferredAsync(string source, string number)
    {
        XDocument document = await Server.FetchAsync(CallFrom(source, number));
        return Actions(document).Any(a => a.Application == "transfer");
    }

    public Task InsertRuleAsync(int id, string cidr) => Database.ExecuteAsync(
        """
        INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status)
        VALUES (@id, @name, @cidr, 2, 1, 0, 0, '', 'default', 0)
        """,
        new { id, name = $"rule {id}", cidr });

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Database.DisposeAsync();
    }
}

public static class Eventually
{
    /// <summary>Polls until the condition holds or the deadline passes; returns how long it took.</summary>
    public static async Task<TimeSpan> TrueAsync(Func<Task<bool>> condition, TimeSpan deadline, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await condition())
            {
                return clock.Elapsed;
            }

            if (clock.Elapsed > deadline)
            {
                Assert.Fail($"not within {deadline.TotalSeconds:F1} s: {what}");
            }

            await Task.Delay(20);
        }
    }

    public static Task<TimeSpan> TrueAsync(Func<bool> condition, TimeSpan deadline, string what) =>
        TrueAsync(() => Task.FromResult(condition()), deadline, what);
}
