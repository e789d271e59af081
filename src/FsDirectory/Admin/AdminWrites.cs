using System.Data;
using FsDirectory.Audit;
using FsDirectory.Database;
using FsDirectory.Snapshots;
using MySqlConnector;

namespace FsDirectory.Admin;

/// <summary>
/// How every admin write runs: one transaction (a refused row leaves nothing behind) that also inserts the
/// write's audit records, run again when the database rolled it back for a conflict, then a forced snapshot
/// rebuild, so /freeswitch answers reflect the write once the response is sent.
/// </summary>
public sealed partial class AdminWrites(DatabaseConnector database, SnapshotReloader reloader, AuditStore audit, ILogger<AdminWrites> logger)
{
    // Deadlocks, and on Galera certification conflicts with a write committed on another node, roll
    // the whole transaction back; running it again is safe and nearly always succeeds.
    private const int MaxAttempts = 5;

    /// <summary>
    /// Off only in the benchmark that measures what the audit records cost (BENCHMARKS.md); no setting turns it off.
    /// </summary>
    internal bool Recording { get; set; } = true;

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction and inserts the <see cref="AuditRecords"/> it added, attributed
    /// to <paramref name="caller"/> and tied by one request id, in that same transaction just before it commits: the
    /// change and its records commit together or not at all. A retried attempt starts with no records.
    /// </summary>
    public async Task<T> InTransactionAsync<T>(AdminCaller caller, Func<MySqlConnection, MySqlTransaction, AuditRecords, Task<T>> work, CancellationToken ct)
    {
        var requestId = Guid.CreateVersion7().ToString("N");
        T result;
        for (var attempt = 1; ; attempt++)
        {
            var committing = false;
            await using var connection = await OpenAsync(ct);
            try
            {
                await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
                var records = new AuditRecords();
                result = await work(connection, transaction, records);
                if (records.Entries.Count == 0)
                {
                    // A write path that forgot its record is a bug: refusing it keeps "no change without a record" true.
                    throw new InvalidOperationException("an admin write added no audit record; nothing was committed");
                }

                if (Recording)
                {
                    await audit.InsertAsync(connection, transaction, caller, requestId, records.Entries, ct);
                }

                committing = true;
                await transaction.CommitAsync(ct);
                break;
            }
            catch (Exception ex) when (ex is MySqlException || DatabaseConnector.IsNodeFailure(ex))
            {
                database.ReportFailure(connection, ex);
                var conflict = ex is MySqlException { ErrorCode: MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout };
                // A connection lost during COMMIT leaves unknown whether it committed: running it again could write twice.
                var lostBeforeCommit = !committing && DatabaseConnector.IsNodeFailure(ex);
                if (attempt < MaxAttempts && (conflict || lostBeforeCommit))
                {
                    LogRetried(attempt, ex.Message);
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(10, 40) * attempt), ct);
                    continue;
                }

                throw conflict
                    ? new AdminProblemException(StatusCodes.Status503ServiceUnavailable,
                        $"the database refused the write {attempt} times because of concurrent changes (deadlock or cluster certification conflict); nothing was written, try again")
                    : committing && DatabaseConnector.IsNodeFailure(ex)
                        ? new AdminProblemException(StatusCodes.Status503ServiceUnavailable,
                            "the database connection was lost while the write was committing; it may or may not have been applied: check before retrying")
                        : DatabaseUnavailable(ex);
            }
        }

        // The triggers wrote the rows to the change feed; applying it now makes our own answers current before we reply.
        await reloader.ReloadIfChangedAsync(force: true, ct);
        return result;
    }

    /// <summary>Runs a read on one connection; a failure that shows the node unusable moves the instance to the next host.</summary>
    public Task<T> ReadAsync<T>(Func<MySqlConnection, Task<T>> work, CancellationToken ct) => database.RunAsync(work, ct);

    /// <summary>The database failed a request (or answered an error no check foresaw): a 503 problem, never a 500.</summary>
    public static AdminProblemException DatabaseUnavailable(Exception ex) =>
        new(StatusCodes.Status503ServiceUnavailable,
            $"the database did not complete the request ({(ex is MySqlException my ? $"error {(int)my.ErrorCode}" : ex.GetType().Name)}); nothing was changed");

    private async Task<MySqlConnection> OpenAsync(CancellationToken ct)
    {
        try
        {
            return await database.OpenConnectionAsync(ct);
        }
        catch (Exception ex) when (ex is MySqlException || DatabaseConnector.IsNodeFailure(ex))
        {
            throw DatabaseUnavailable(ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Admin API: write attempt {Attempt} rolled back ({Error}); running it again")]
    private partial void LogRetried(int attempt, string error);
}
