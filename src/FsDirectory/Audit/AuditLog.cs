using System.Text.Json;
using FsDirectory.Admin;

namespace FsDirectory.Audit;

/// <summary>An audit record as the API shows it: who (the key's name), when (UTC), from where, and what, with the values before and after.</summary>
public sealed record AuditRecord(
    long Id, string RequestId, DateTimeOffset At, string Key, string? From, string Via,
    string Entity, long? EntityId, string Action, int? AccountId, int? ResellerId, JsonElement? Before, JsonElement? After)
{
    public static AuditRecord Of(AuditRow row) => new(
        row.Id, row.RequestId, new DateTimeOffset(DateTime.SpecifyKind(row.ChangedAt, DateTimeKind.Utc)), row.KeyName, row.ClientAddress, row.Via,
        row.Entity, row.EntityId, row.Action, row.AccountId, row.ResellerId, Parse(row.BeforeJson), Parse(row.AfterJson));

    private static JsonElement? Parse(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}

public sealed record AuditPage(IReadOnlyList<AuditRecord> Items, long Total, int Page, int PageSize);

/// <summary>
/// Filters of GET /api/audit (all optional): the key's name, the entity and its id, the action, the request id
/// (every row of one bulk action or import), and the time range [from, to).
/// </summary>
public sealed record AuditQuery(
    string? Key, string? Entity, long? Id, string? Action, string? RequestId, DateTimeOffset? From, DateTimeOffset? To, int? Page, int? PageSize);

/// <summary>Reads the audit trail, newest first, scoped like every admin read: a reseller key sees the records of its reseller's accounts only.</summary>
public sealed class AuditLog(AdminWrites writer, AuditStore store)
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public static IReadOnlyList<string> Entities { get; } =
        [AuditEntities.IpSetting, AuditEntities.Account, AuditEntities.TrustedProxy, AuditEntities.DefaultSipProfile];

    public static IReadOnlyList<string> Actions { get; } =
    [
        AuditActions.Create, AuditActions.Replace, AuditActions.Delete, AuditActions.Activate, AuditActions.Deactivate,
        AuditActions.Import, AuditActions.IpOnly, AuditActions.Set,
    ];

    public async Task<AuditPage> ListAsync(AdminCaller caller, AuditQuery query, CancellationToken ct)
    {
        var paging = Paging.Check(query.Page, query.PageSize, DefaultPageSize, MaxPageSize);
        if (!string.IsNullOrWhiteSpace(query.Entity) && !Entities.Contains(query.Entity.Trim()))
        {
            throw AdminProblemException.Invalid("entity", $"entity must be one of {string.Join(", ", Entities)}");
        }

        if (!string.IsNullOrWhiteSpace(query.Action) && !Actions.Contains(query.Action.Trim()))
        {
            throw AdminProblemException.Invalid("action", $"action must be one of {string.Join(", ", Actions)}");
        }

        if (query.From is { } from && query.To is { } to && to < from)
        {
            throw AdminProblemException.Invalid("to", "to must not be before from");
        }

        var (items, total) = await writer.ReadAsync(connection => store.ListAsync(connection, caller, query, paging, ct), ct);
        return new AuditPage([.. items.Select(AuditRecord.Of)], total, paging.Page, paging.PageSize);
    }
}
