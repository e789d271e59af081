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
    private const string InsertSql = """
        INSERT INTO fsdir_audit (request_id, changed_at, key_name, client_address, via, entity, entity_id, action, account_id, reseller_id, before_json, after_json)
        VALUES (@requestId, UTC_TIMESTAMP(6), @keyName, @clientAddress, @via, @entity, @entityId, @action, @accountId, @resellerId, @before, @after)
        """;

    // Statements sent per round trip: a 10,000-row import is 20 round trips, not 10,000.
    private const int BatchSize = 500;

    /// <summary>Inserts the records in <paramref name="transaction"/>: one statement each, sent in batches.</summary>
    public async Task InsertAsync(MySqlConnection connection, MySqlTransaction transaction, AdminCaller caller, string requestId,
        IReadOnlyList<AuditEntry> entries, CancellationToken ct)
    {
        foreach (var chunk in entries.Chunk(BatchSize))
        {
            await using var batch = new MySqlBatch(connection, transaction);
            foreach (var entry in chunk)
            {
                var command = new MySqlBatchCommand(InsertSql);
                command.Parameters.AddWithValue("@requestId", requestId);
                command.Parameters.AddWithValue("@keyName", caller.Name);
                command.Parameters.AddWithValue("@clientAddress", caller.From);
                command.Parameters.AddWithValue("@via", caller.Via);
                command.Parameters.AddWithValue("@entity", entry.Entity);
                command.Parameters.AddWithValue("@entityId", entry.EntityId);
                command.Parameters.AddWithValue("@action", entry.Action);
                command.Parameters.AddWithValue("@accountId", entry.AccountId);
                command.Parameters.AddWithValue("@resellerId", entry.ResellerId);
                command.Parameters.AddWithValue("@before", ToJson(entry.Before));
                command.Parameters.AddWithValue("@after", ToJson(entry.After));
                batch.BatchCommands.Add(command);
            }

            await batch.ExecuteNonQueryAsync(ct);
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
