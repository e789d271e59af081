using FsDirectory.Tests.EventSocket;
using FsDirectory.Tests.Infrastructure;
using MySqlConnector;

namespace FsDirectory.Tests.Data;

/// <summary>Several hosts in ConnectionStrings:Default, on one server: the Galera tests cover real node failures.</summary>
public sealed class DatabaseFailoverTests
{
    [Fact]
    public async Task A_listed_host_that_refuses_connections_is_passed_over_and_the_status_names_the_host_in_use()
    {
        await using var database = await TestDatabase.CreateAsync(seed: true);
        // The test server listens on 127.0.0.1 only: the same port on 127.0.0.2 refuses.
        var connection = new MySqlConnectionStringBuilder(database.ConnectionString) { Server = "127.0.0.2,127.0.0.1" }.ConnectionString;

        await using var server = await FsDirectoryServer.StartAsync(connection);
        var status = await EventSocketHarness.StatusOf(server);

        Assert.Equal("127.0.0.1", status.DatabaseNode);
        Assert.Equal(["127.0.0.2", "127.0.0.1"], status.DatabaseHosts);
        Assert.True(status.DatabaseReachable);
        Assert.Contains("moved from 127.0.0.2 to 127.0.0.1", server.Logs.All, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MySqlErrorCode.UnknownCommand, true)] // 1047: a Galera node outside the primary component
    [InlineData(MySqlErrorCode.UnableToConnectToHost, true)]
    [InlineData(MySqlErrorCode.ServerShutdown, true)]
    [InlineData(MySqlErrorCode.CommandTimeoutExpired, true)]
    [InlineData(MySqlErrorCode.LockDeadlock, false)] // the statement's problem: retried on the same node
    [InlineData(MySqlErrorCode.DuplicateKeyEntry, false)]
    [InlineData(MySqlErrorCode.NoSuchTable, false)]
    public void Only_errors_that_say_the_node_cannot_serve_move_an_instance_to_the_next_host(MySqlErrorCode code, bool moves)
    {
        var error = MySqlExceptionFactory(code);

        Assert.Equal(moves, DatabaseConnector.IsNodeFailure(error));
        Assert.True(DatabaseConnector.IsNodeFailure(new InvalidOperationException("wrapped", new IOException("reset"))));
    }

    private static MySqlException MySqlExceptionFactory(MySqlErrorCode code) =>
        (MySqlException)typeof(MySqlException)
            .GetConstructor(System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance, [typeof(MySqlErrorCode), typeof(string)])!
            .Invoke([code, "test"]);
}
