using System.Data;
using FsDirectory.Data;
using MySqlConnector;

namespace FsDirectory.Admin;

/// <summary>
/// How every admin write runs: one transaction (a refused row leaves nothing behind), then a forced
/// snapshot rebuild, so /freeswitch answers reflect the change once the caller gets its response.
/// </summary>
public sealed class AdminWriter(MySqlDataSource dataSource, SnapshotReloader reloader)
{
    public async Task<T> WriteAsync<T>(Func<MySqlConnection, MySqlTransaction, Task<T>> work, CancellationToken ct)
    {
        T result;
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        {
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
            result = await work(connection, transaction);
            await transaction.CommitAsync(ct);
        }

        // The triggers bumped fsdir_change_version for the switches; this makes our own answers current now.
        await reloader.ReloadIfChangedAsync(force: true, ct);
        return result;
    }

    public async Task<T> ReadAsync<T>(Func<MySqlConnection, Task<T>> work, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await work(connection);
    }
}
