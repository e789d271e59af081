using System.Net.Sockets;
using Dapper;
using Microsoft.Extensions.Options;
using MySqlConnector;


namespace FsDirectory.Database;

/// <summary>
/// Opens connections to one database host at a time, and moves to the next listed host when the
/// current one stops answering. <c>ConnectionStrings:Default</c> may name several hosts
/// (<c>Server=db1,db2,db3</c>, one <c>Port</c> for all): each gets a pool of its own, and the first
/// listed host that works is used.
/// </summary>
/// <remarks>
/// MySqlConnector's own <c>LoadBalance=FailOver</c> only moves on when a host refuses connections.
/// A Galera node cut off from the primary component still accepts them, then refuses every
/// statement on a table (error 1047); a driver-level failover would stay on it and the instance
/// would serve stale data forever. Here any statement that shows the node unusable moves the
/// instance on, and one instance keeps all its work on one node, so it reads its own writes.
/// </remarks>
public sealed partial class DatabaseConnector : IAsyncDisposable
{
    // wsrep_ready is OFF on a node outside the primary component; absent on a server without Galera.
    private const string ProbeSql = "SHOW STATUS LIKE 'wsrep_ready'";

    private readonly DatabaseHost[] _hosts;
    private readonly TimeProvider _time;
    private readonly TimeSpan _failbackInterval;
    private readonly ILogger<DatabaseConnector> _logger;
    private volatile int _current;
    private long _nextFailbackProbe;
    private int _probing;

    public DatabaseConnector(string connectionString, IOptions<DatabaseOptions> options, TimeProvider time, ILogger<DatabaseConnector> logger)
    {
        var database = options.Value;
        var template = new MySqlConnectionStringBuilder(connectionString)
        {
            // ASTPP's status/deleted columns are tinyint(1) holding 0/1 flags, but they are compared as numbers.
            TreatTinyAsBoolean = false,
            ConnectionTimeout = (uint)database.ConnectTimeoutSeconds,
            DefaultCommandTimeout = (uint)database.LoadTimeoutSeconds,
        };
        var names = template.Server.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0)
        {
            throw new InvalidOperationException("ConnectionStrings:Default names no Server.");
        }

        _hosts = [.. names.Select(name =>
        {
            var one = new MySqlConnectionStringBuilder(template.ConnectionString) { Server = name };
            one.Remove("LoadBalance");
            return new DatabaseHost(name, new MySqlDataSourceBuilder(one.ConnectionString).Build());
        })];
        _time = time;
        _failbackInterval = database.FailbackInterval;
        _logger = logger;
    }

    /// <summary>The host connections go to now (as written in the connection string).</summary>
    public string CurrentHost => _hosts[_current].Name;

    public IReadOnlyList<string> Hosts => [.. _hosts.Select(static h => h.Name)];

    /// <summary>
    /// A connection to the current host, or to the next listed one that accepts it. Every
    /// <see cref="DatabaseOptions.FailbackInterval"/> a host listed before the current one is tried
    /// again, so an instance returns to its own node after that node is back.
    /// </summary>
    public async Task<MySqlConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        if (_current != 0 && _time.GetTimestamp() >= Interlocked.Read(ref _nextFailbackProbe))
        {
            await TryFailBackAsync(cancellationToken);
        }

        var start = _current;
        Exception? last = null;
        for (var i = 0; i < _hosts.Length; i++)
        {
            var index = (start + i) % _hosts.Length;
            try
            {
                var connection = await _hosts[index].Source.OpenConnectionAsync(cancellationToken);
                if (index != start)
                {
                    MoveTo(start, index, last);
                }

                return connection;
            }
            catch (Exception ex) when (_hosts.Length > 1 && IsNodeFailure(ex) && !cancellationToken.IsCancellationRequested)
            {
                last = ex;
            }
        }

        throw last!;
    }

    /// <summary>Opens a connection, runs <paramref name="work"/> on it, and leaves the host behind when the failure says the node is unusable.</summary>
    public async Task<T> RunAsync<T>(Func<MySqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        try
        {
            return await work(connection);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            ReportFailure(connection, ex);
            throw;
        }
    }

    /// <summary>A statement on <paramref name="connection"/> failed: if the node is unusable and still current, the next host becomes current.</summary>
    public void ReportFailure(MySqlConnection connection, Exception ex)
    {
        if (_hosts.Length < 2 || !IsNodeFailure(ex))
        {
            return;
        }

        var failed = Array.FindIndex(_hosts, h => string.Equals(h.Name, connection.DataSource, StringComparison.Ordinal));
        if (failed >= 0 && failed == _current)
        {
            MoveTo(failed, (failed + 1) % _hosts.Length, ex);
        }
    }

    /// <summary>
    /// Errors that say "this node cannot serve", as opposed to "this statement is wrong": no
    /// connection, a connection lost mid-statement, a node shutting down, a Galera node outside the
    /// primary component (1047), or no answer within the command's budget.
    /// </summary>
    public static bool IsNodeFailure(Exception ex) => ex switch
    {
        MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost or MySqlErrorCode.UnknownCommand
            or MySqlErrorCode.ServerShutdown or MySqlErrorCode.NormalShutdown or MySqlErrorCode.ShutdownComplete
            or MySqlErrorCode.CommandTimeoutExpired } => true,
        MySqlEndOfStreamException or IOException or SocketException or TimeoutException => true,
        _ => ex.InnerException is { } inner && IsNodeFailure(inner),
    };

    private void MoveTo(int from, int to, Exception? why)
    {
        if (Interlocked.CompareExchange(ref _current, to, from) == from)
        {
            Interlocked.Exchange(ref _nextFailbackProbe, _time.GetTimestamp() + (long)(_failbackInterval.TotalSeconds * _time.TimestampFrequency));
            LogMoved(_hosts[from].Name, _hosts[to].Name, why?.Message ?? "preferred host answers again");
        }
    }

    private async Task TryFailBackAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _probing, 1) == 1)
        {
            return;
        }

        var current = _current;
        try
        {
            Interlocked.Exchange(ref _nextFailbackProbe, _time.GetTimestamp() + (long)(_failbackInterval.TotalSeconds * _time.TimestampFrequency));
            for (var index = 0; index < current; index++)
            {
                if (await IsUsableAsync(_hosts[index], cancellationToken))
                {
                    MoveTo(current, index, null);
                    return;
                }
            }
        }
        finally
        {
            Volatile.Write(ref _probing, 0);
        }
    }

    private static async Task<bool> IsUsableAsync(DatabaseHost host, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await host.Source.OpenConnectionAsync(cancellationToken);
            var ready = await connection.QueryFirstOrDefaultAsync<(string Name, string Value)>(new CommandDefinition(ProbeSql, commandTimeout: 2, cancellationToken: cancellationToken));
            return ready.Name is null || string.Equals(ready.Value, "ON", StringComparison.OrdinalIgnoreCase);
        }
        catch (Exception ex) when (IsNodeFailure(ex) || ex is MySqlException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.Source.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database: moved from {From} to {To} ({Reason})")]
    private partial void LogMoved(string from, string to, string reason);

    private sealed record DatabaseHost(string Name, MySqlDataSource Source);
}
