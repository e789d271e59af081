using Dapper;
using FsDirectory.Tests.EventSocket;
using FsDirectory.Tests.Infrastructure;
using MySqlConnector;
using static FsDirectory.Tests.Migrations.MigrateHarness;

namespace FsDirectory.Tests.Migrations;

/// <summary>
/// `migrate` on the three-node Galera cluster, where GET_LOCK would be granted on every node at once:
/// the ledger row's primary key, certified cluster-wide, is what makes one run apply each file.
/// </summary>
[Collection(GaleraClusterGroup.Name)]
public sealed class GaleraMigrateTests(GaleraCluster cluster)
{
    [Fact]
    public async Task Runs_started_at_once_on_three_galera_nodes_apply_each_file_once_and_every_node_gets_the_stock_clients_schema()
    {
        await using var database = await TestDatabase.CreateEmptyAsync(cluster.NodeServer(1));
        await using var byClient = await TestDatabase.CreateAsync(seed: false, server: cluster.NodeServer(1));
        var nodes = Enumerable.Range(1, GaleraCluster.Nodes).ToList();
        // CREATE DATABASE replicates in total order, but another node may not have run it yet.
        foreach (var node in nodes)
        {
            await Eventually.TrueAsync(() => ExistsAsync(node, database.Name), TimeSpan.FromSeconds(10), $"the database on node {node}");
        }

        var runs = await Task.WhenAll(nodes.Select(node => Task.Run(() => RunAsync(NodeDatabase(node, database.Name), Paths.Sql("")))));

        Assert.All(runs, static run => Assert.True(run.ExitCode == 0, run.ToString()));
        foreach (var name in ShippedNames)
        {
            Assert.Equal(1, runs.Count(run => run.Output.Contains($"applied   {name} (", StringComparison.Ordinal)));
        }

        var expected = await SchemaAsync(NodeDatabase(1, byClient.Name));
        foreach (var node in nodes)
        {
            await Eventually.TrueAsync(
                async () => await cluster.CountAsync(node, database.Name, "SELECT COUNT(*) FROM fsdir_schema_migrations WHERE state = 'applied'") == ShippedNames.Count,
                TimeSpan.FromSeconds(10), $"the ledger on node {node}");
            Assert.Equal(expected, await SchemaAsync(NodeDatabase(node, database.Name)));
        }

        var again = await RunAsync(NodeDatabase(3, database.Name), Paths.Sql(""));
        Assert.Contains($"up to date: all {ShippedNames.Count} files applied", again.Output, StringComparison.Ordinal);
    }

    private async Task<bool> ExistsAsync(int node, string database)
    {
        await using var connection = cluster.Connect(node, "information_schema");
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM SCHEMATA WHERE SCHEMA_NAME = @database", new { database }) == 1;
    }

    private string NodeDatabase(int node, string database) =>
        new MySqlConnectionStringBuilder(cluster.NodeServer(node)) { Database = database }.ConnectionString;
}
