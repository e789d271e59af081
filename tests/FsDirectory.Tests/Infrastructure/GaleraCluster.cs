using System.Diagnostics;
using Dapper;
using MySqlConnector;

namespace FsDirectory.Tests.Infrastructure;

/// <summary>
/// A real three-node MariaDB Galera cluster on loopback (scripts/galera.sh), shared by the tests of
/// the "Galera" collection. Each run picks its own 127.x.y.0/24 prefix and ports, so two suites on
/// one machine do not meet. Tests that stop or isolate a node bring it back before they end.
/// </summary>
public sealed class GaleraCluster : IAsyncLifetime
{
    public const int Nodes = 3;

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "fsdir-galera-" + Guid.NewGuid().ToString("N")[..10]);

    public string Prefix { get; } = $"127.{Random.Shared.Next(100, 250)}.{Random.Shared.Next(1, 250)}";

    public int Port { get; } = Random.Shared.Next(20000, 30000);

    private int GroupPort { get; } = Random.Shared.Next(30000, 60000);

    public string NodeAddress(int node) => $"{Prefix}.{10 + node}";

    /// <summary>Connection string without a database for node <paramref name="node"/> alone.</summary>
    public string NodeServer(int node) => new MySqlConnectionStringBuilder
    {
        Server = NodeAddress(node), Port = (uint)Port, UserID = "fsdir", Password = "fsdir",
    }.ConnectionString;

    /// <summary>
    /// What an instance on node <paramref name="preferred"/> is configured with: every node, its
    /// own first, as an operator lists them.
    /// </summary>
    public string InstanceConnectionString(string database, int preferred) => new MySqlConnectionStringBuilder
    {
        Server = string.Join(',', Enumerable.Range(0, Nodes).Select(i => NodeAddress(((preferred - 1 + i) % Nodes) + 1))),
        Port = (uint)Port,
        UserID = "fsdir",
        Password = "fsdir",
        Database = database,
    }.ConnectionString;

    public async Task InitializeAsync()
    {
        try
        {
            await RunAsync("start", Directory, Prefix, Port.ToString(System.Globalization.CultureInfo.InvariantCulture), GroupPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        catch
        {
            // xunit does not dispose a fixture whose start failed: leave no half-started node behind.
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>A fresh database with schema, migrations and the demo seed, applied through node 1 (DDL replicates).</summary>
    public Task<TestDatabase> CreateDatabaseAsync() => TestDatabase.CreateAsync(seed: true, server: NodeServer(1));

    /// <summary>A connection to one node, as a DBA connected to it would have.</summary>
    public MySqlConnection Connect(int node, string database) =>
        new(new MySqlConnectionStringBuilder(NodeServer(node)) { Database = database }.ConnectionString);

    public async Task<int> ExecuteAsync(int node, string database, string sql)
    {
        await using var connection = Connect(node, database);
        return await connection.ExecuteAsync(sql);
    }

    public async Task<long> CountAsync(int node, string database, string sql)
    {
        await using var connection = Connect(node, database);
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    /// <summary>A clean shutdown of the node's server: it leaves the cluster, and its clients lose their connections.</summary>
    public Task StopNodeAsync(int node) => RunAsync("stop-node", Directory, Node(node));

    /// <summary>Starts the node again; it rejoins and catches up (IST) before this returns.</summary>
    public Task StartNodeAsync(int node) => RunAsync("start-node", Directory, Node(node));

    /// <summary>Cuts the node off the group: it keeps accepting connections but is no longer primary (every table read fails with 1047).</summary>
    public Task IsolateNodeAsync(int node, bool isolated) => RunAsync("isolate-node", Directory, Node(node), isolated ? "1" : "0");

    /// <summary>Waits until every node is back in one primary component of three.</summary>
    public async Task WaitUntilWholeAsync()
    {
        var clock = Stopwatch.StartNew();
        string status;
        do
        {
            status = await RunAsync("status", Directory);
            if (status.Split('\n', StringSplitOptions.RemoveEmptyEntries).All(l => l.Contains("Synced size=3", StringComparison.Ordinal)))
            {
                return;
            }

            await Task.Delay(200);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(60));

        Assert.Fail($"the cluster did not become whole again:\n{status}");
    }

    public async Task DisposeAsync() => await RunAsync("reset", Directory);

    private static string Node(int node) => node.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static Task<string> RunAsync(string command, params string[] arguments) => Scripts.RunAsync("galera.sh", [command, .. arguments]);
}

[CollectionDefinition(Name)]
public sealed class GaleraClusterGroup : ICollectionFixture<GaleraCluster>
{
    public const string Name = "Galera";
}
