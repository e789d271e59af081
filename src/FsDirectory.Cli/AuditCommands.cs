using System.Globalization;
using System.Text.Json;

namespace FsDirectory.Cli;

/// <summary>audit: who changed what, when and from where (GET /api/audit), newest first, one record a line.</summary>
internal static class AuditCommands
{
    internal static Task<int> AuditAsync(HttpClient client, Dictionary<string, string?> options, TextWriter stdout, TextWriter stderr) =>
        CliOutput.TableAsync(client, "/api/audit", options,
            [
                ("--key", "key"), ("--entity", "entity"), ("--id", "id"), ("--action", "action"), ("--request", "requestId"),
                ("--from", "from"), ("--to", "to"), ("--page", "page"), ("--page-size", "pageSize"),
            ],
            "at\tkey\tfrom\tvia\tentity\tid\taction\trequest\tbefore\tafter",
            record =>
            [
                record.GetProperty("at").GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
                record.GetProperty("key").GetString(),
                Text(record.GetProperty("from")),
                record.GetProperty("via").GetString(),
                record.GetProperty("entity").GetString(),
                Text(record.GetProperty("entityId")),
                record.GetProperty("action").GetString(),
                record.GetProperty("requestId").GetString(),
                Text(record.GetProperty("before")),
                Text(record.GetProperty("after")),
            ],
            "record(s)", stdout, stderr);

    /// <summary>A value on one line: "-" for none, JSON as compact JSON.</summary>
    private static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => "-",
        JsonValueKind.String => value.GetString() ?? "-",
        _ => value.GetRawText(),
    };
}
