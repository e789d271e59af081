using Dapper;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace FsDirectory.EventSocket;

/// <summary>
/// Which backend instance pushes: the one holding MariaDB's named lock on a connection of its own.
/// The server releases the lock when that connection dies, so a crashed holder is replaced by the
/// next instance to ask, without any election of our own.
/// </summary>
public sealed partial class PushLease(MySqlDataSource dataSource, IOptions<EventSocketOptions> options, ILogger<PushLease> logger)
{
    // Lock names are server-wide; the database name keeps unrelated databases on one server apart.
    private const string AcquireSql = "SELECT GET_LOCK(LEFT(CONCAT(@Name, ':', COALESCE(DATABASE(), '')), 64), 0)";
    private const string StillHeldSql = "SELECT COALESCE(IS_USED_LOCK(LEFT(CONCAT(@Name, ':', COALESCE(DATABASE(), '')), 64)) = CONNECTION_ID(), 0)";

    private const string ReleaseSql = "SELECT RELEASE_LOCK(LEFT(CONCAT(@Name, ':', COALESCE(DATABASE(), '')), 64))";

    private volatile bool _holder;

    public bool IsHolder => _holder;

    /// <summary>Raised when this instance takes over after not holding the lock; it may have missed pushes.</summary>
    public event Action? TookOver;

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        MySqlConnection? connection = null;
        var missedSome = false;
        var parameters = new { Name = options.Value.LockName };
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    connection ??= await dataSource.OpenConnectionAsync(stoppingToken);
                    var sql = _holder ? StillHeldSql : AcquireSql;
                    var held = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(sql, parameters, commandTimeout: 5, cancellationToken: stoppingToken)) == 1;
                    if (held && !_holder)
                    {
                        _holder = true;
                        LogAcquired();
                        if (missedSome)
                        {
                            TookOver?.Invoke();
                        }
                    }
                    else if (!held)
                    {
                        if (_holder)
                        {
                            LogLost();
                        }

                        _holder = false;
                        missedSome = true;
                    }
                }
                catch (Exception ex) when (ex is MySqlException or InvalidOperationException or TimeoutException)
                {
                    if (_holder)
                    {
                        LogLost();
                    }

                    _holder = false;
                    missedSome = true;
                    if (connection is not null)
                    {
                        await connection.DisposeAsync();
                        connection = null;
                    }
                }

                await Task.Delay(options.Value.ReconnectInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (connection is not null)
            {
                // A pooled connection can outlive this loop; release explicitly so a standby takes over at once.
                if (_holder)
                {
                    await ReleaseAsync(connection, parameters);
                }

                await connection.DisposeAsync();
            }

            _holder = false;
        }
    }

    private static async Task ReleaseAsync(MySqlConnection connection, object parameters)
    {
        try
        {
            await connection.ExecuteScalarAsync<long?>(new CommandDefinition(ReleaseSql, parameters, commandTimeout: 2));
        }
        catch (MySqlException)
        {
            // The server drops the lock with the connection anyway.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Event Socket push lock acquired: this instance pushes changes to the switches")]
    private partial void LogAcquired();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event Socket push lock lost: another instance (or none, until the database is back) pushes changes")]
    private partial void LogLost();
}
