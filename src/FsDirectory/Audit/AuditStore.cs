using System.Data.Common;
using System.Text.Json;
using Dapper;
using FsDirectory.Admin;
using MySqlConnector;

namespace FsDirectory.Audit;

/// <summary>SQL for <c>fsdir_audit</c> (sql/migrations/009): insert-only records, read back filtered and paged, trimmed by age.</summary>
public sealed class AuditStore
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // The database's clock, as for fsdir_change_feed.changed_at: records and feed rows compare on one clock.
    private const string InsertColumns = """
        INSERT INTO fsdir_audit (request_id, changed_at, key_name, client_address, via, entity, entity_id, action, account_id, reseller_id, before_json, after_json)
        VALUES
        """;

    // Rows per INSERT: a bulk action or an import is a few multi-row statements, not one round trip per row. The texts
    // are built once from constants (placeholders only, never values), one per size, as the list's sort texts are.
    private static readonly int[] RowsPerStatement = [100, 10, 1];

    private static readonly Dictionary<int, string> InsertSqlByRows = RowsPerStatement.ToDictionary(static n => n, static n => InsertColumns + string.Join(",",
        Enumerable.Range(0, n).Select(static i => $"\n(@requestId, UTC_TIMESTAMP(6), @keyName, @clientAddress, @via, @entity{i}, @entityId{i}, @action{i}, @accountId{i}, @resellerId{i}, @before{i}, @after{i})")));

    /// <summary>Inserts the records in <paramref name="transaction"/>, in as few statements as the fixed sizes allow.</summary>
    public async Task InsertAsync(MySqlConnection connection, MySqlTransaction transaction, AdminCaller caller, string requestId,
        IReadOnlyList<AuditEntry> entries, CancellationToken ct)
    {
        var next = 0;
        while (next < entries.Count)
        {
            var rows = RowsPerStatement.First(n => n <= entries.Count - next);
            await using var command = new MySqlCommand(InsertSqlByRows[rows], connection, transaction);
            command.Parameters.AddWithValue("@requestId", requestId);
            command.Parameters.AddWithValue("@keyName", caller.Name);
            command.Parameters.AddWithValue("@clientAddress", caller.From);
            command.Parameters.AddWithValue("@via", caller.Via);
            for (var i = 0; i < rows; i++)
            {
                var entry = entries[next + i];
                var n = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                command.Parameters.AddWithValue("@entity" + n, entry.Entity);
                command.Parameters.AddWithValue("@entityId" + n, entry.EntityId);
                command.Parameters.AddWithValue("@action" + n, entry.Action);
                command.Parameters.AddWithValue("@accountId" + n, entry.AccountId);
                command.Parameters.AddWithValue("@resellerId" + n, entry.ResellerId);
                command.Parameters.AddWithValue("@before" + n, ToJson(entry.Before));
                command.Parameters.AddWithValue("@after" + n, ToJson(entry.After));
            }

            await command.ExecuteNonQueryAsync(ct);
            next += rows;
        }
    }

    private static string? ToJson(object? value) => value is null ? null : JsonSerializer.Serialize(value, value.GetType(), Json);

    // Every filter is a NULL-able parameter, so the text stays constant; MySqlConnector sends the values inline,
    // so the server folds "NULL IS NULL" away and uses the index of the filters that are set.
    private const string Filter = """
         FROM fsdir_audit
        WHERE (@scope IS NULL OR reseller_id = @scope)
          AND (@key IS NULL OR key_name = @key)
          AND (@entity IS NULL OR entity = @entity)
          AND (@entityId IS NULL OR entity_id = @entityId)
          AND (@action IS NULL OR action = @action)
          AND (@requestId IS NULL OR request_id = @requestId)
          AND (@from IS NULL OR changed_at >= @from)
          AND (@to IS NULL OR changed_at < @to)
        """;

    private const string PageSql = """
        SELECT id AS Id, request_id AS RequestId, changed_at AS ChangedAt, key_name AS KeyName, client_address AS ClientAddress, via AS Via,
               entity AS Entity, entity_id AS EntityId, action AS Action, account_id AS AccountId, reseller_id AS ResellerId,
               before_json AS BeforeJson, after_json AS AfterJson
        """ + Filter + " ORDER BY changed_at DESC, id DESC LIMIT @limit OFFSET @offset";

    private const string CountSql = "SELECT COUNT(*)" + Filter;

    public async Task<(IReadOnlyList<AuditRow> Items, long Total)> ListAsync(DbConnection connection, AdminCaller caller, AuditQuery query, Paging paging, CancellationToken ct)
    {
        var parameters = new
        {
            scope = caller.ResellerId,
            key = Blank(query.Key),
            entity = Blank(query.Entity),
            entityId = query.Id,
            action = Blank(query.Action),
            requestId = Blank(query.RequestId),
            from = query.From?.UtcDateTime,
            to = query.To?.UtcDateTime,
            limit = paging.PageSize,
            offset = paging.Offset,
        };
        var items = await connection.QueryAsync<AuditRow>(new CommandDefinition(PageSql, parameters, cancellationToken: ct));
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountSql, parameters, cancellationToken: ct));
        return (items.AsList(), total);
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    // One short statement per batch (autocommit): each holds its row locks for milliseconds, so an admin write
    // inserting a record never waits long behind the trim.
    private const string TrimSql = "DELETE FROM fsdir_audit WHERE changed_at < UTC_TIMESTAMP(6) - INTERVAL @retentionSeconds SECOND ORDER BY changed_at LIMIT @batchSize";

    public async Task<int> TrimBatchAsync(DbConnection connection, TimeSpan retention, int batchSize, int timeoutSeconds, CancellationToken ct) =>
        await connection.ExecuteAsync(new CommandDefinition(TrimSql,
            new { retentionSeconds = (long)retention.TotalSeconds, batchSize }, commandTimeout: timeoutSeconds, cancellationToken: ct));
}

/// <summary>An <c>fsdir_audit</c> row as read.</summary>
public sealed record AuditRow
{
    public long Id { get; init; }
    public string RequestId { get; init; } = string.Empty;
    public DateTime ChangedAt { get; init; }
    public string KeyName { get; init; } = string.Empty;
    public string? ClientAddress { get; init; }
    public string Via { get; init; } = string.Empty;
    public string Entity { get; init; } = string.Empty;
    public long? EntityId { get; init; }
    public string Action { get; init; } = string.Empty;
    public int? AccountId { get; init; }
    public int? ResellerId { get; init; }
    public string? BeforeJson { get; init; }
    public string? AfterJson { get; init; }
}
