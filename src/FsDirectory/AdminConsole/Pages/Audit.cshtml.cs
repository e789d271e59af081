using System.Globalization;
using System.Text.Json;
using FsDirectory.Admin;
using FsDirectory.Audit;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace FsDirectory.AdminConsole.Pages;

/// <summary>The audit trail with the filters of GET /api/audit; a rule's "History" link opens it filtered to that rule.</summary>
public sealed class AuditModel(AuditLog log) : ConsolePageModel
{
    public static readonly int[] PageSizes = [25, 50, 100, 200];

    [BindProperty(SupportsGet = true)]
    public string? Key { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Entity { get; set; }

    [BindProperty(SupportsGet = true)]
    public long? Id { get; set; }

    [BindProperty(SupportsGet = true, Name = "action")]
    public string? ActionFilter { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? RequestId { get; set; }

    /// <summary>From and to are UTC, as the records are (datetime-local inputs carry no zone).</summary>
    [BindProperty(SupportsGet = true)]
    public DateTime? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateTime? To { get; set; }

    [BindProperty(SupportsGet = true)]
    public int? PageSize { get; set; }

    public int? PageNumber => RequestedPage;

    public AuditPage? Records { get; private set; }

    public int TotalPages => Records is null ? 0 : (int)Math.Max(1, (Records.Total + Records.PageSize - 1) / Records.PageSize);

    public async Task OnGetAsync(CancellationToken ct)
    {
        try
        {
            Records = await log.ListAsync(Caller, new AuditQuery(Key, Entity, Id, ActionFilter, RequestId, Utc(From), Utc(To), PageNumber, PageSize ?? AuditLog.DefaultPageSize), ct);
        }
        catch (AdminProblemException problem)
        {
            Show(problem);
            Response.StatusCode = problem.Status;
        }
    }

    private static DateTimeOffset? Utc(DateTime? time) => time is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;

    /// <summary>
    /// This list's URL on another page, filters kept. Built by hand: as a route value, <c>action</c> (like <c>page</c>)
    /// has a meaning of its own to link generation.
    /// </summary>
    public string PageUrl(int page)
    {
        var query = new Dictionary<string, string?>
        {
            ["key"] = Key, ["entity"] = Entity, ["id"] = Id?.ToString(CultureInfo.InvariantCulture), ["action"] = ActionFilter,
            ["requestId"] = RequestId, ["from"] = Input(From), ["to"] = Input(To),
            ["pageSize"] = PageSize?.ToString(CultureInfo.InvariantCulture), ["page"] = page.ToString(CultureInfo.InvariantCulture),
        };
        return QueryHelpers.AddQueryString(Url.Page("/Audit")!, query.Where(static q => !string.IsNullOrEmpty(q.Value)));
    }

    /// <summary>A time as a datetime-local input shows it.</summary>
    public static string? Input(DateTime? time) => time?.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>The fields a record changed, with their values before and after (a create lists every field, a delete too).</summary>
    public static IReadOnlyList<(string Field, string? Before, string? After)> Changes(AuditRecord record)
    {
        var before = Fields(record.Before);
        var after = Fields(record.After);
        return
        [
            .. before.Keys.Union(after.Keys)
                .Select(field => (field, before.GetValueOrDefault(field), after.GetValueOrDefault(field)))
                .Where(static c => c.Item2 != c.Item3),
        ];
    }

    private static Dictionary<string, string?> Fields(JsonElement? value) =>
        value is { ValueKind: JsonValueKind.Object } json
            ? json.EnumerateObject().ToDictionary(static p => p.Name, static p => p.Value.ValueKind == JsonValueKind.Null ? null : p.Value.ToString())
            : [];
}
