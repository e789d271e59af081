using System.Buffers;
using System.Globalization;
using System.Text;

namespace FsDirectory.Admin;

/// <summary>RFC 4180 CSV for import/export of IP settings. Line numbers are physical lines (the header is line 1).</summary>
public static class CsvRules
{
    public const string Header = "id,name,ip,accountId,resellerId,prefix,sipProfileId,context,status";

    private static readonly string[] Known = ["id", "name", "ip", "accountId", "resellerId", "prefix", "sipProfileId", "context", "status"];

    // A spreadsheet runs a cell that starts with one of these as a formula: a rule name such as
    // =HYPERLINK(...) typed through a reseller's key must not run on the admin's machine when the
    // export is opened. Such cells get a leading apostrophe (OWASP's advice), which import removes,
    // so "+44" prefixes survive the round trip.
    private static readonly SearchValues<char> FormulaStarts = SearchValues.Create("=+-@\t\r");

    public static string Write(IEnumerable<IpSetting> rules)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (var r in rules)
        {
            text.AppendJoin(',',
                r.Id.ToString(CultureInfo.InvariantCulture), Cell(r.Name), Cell(r.Ip), r.AccountId.ToString(CultureInfo.InvariantCulture),
                r.ResellerId.ToString(CultureInfo.InvariantCulture), Cell(r.Prefix), r.SipProfileId.ToString(CultureInfo.InvariantCulture),
                Cell(r.Context), r.Status.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return text.ToString();
    }

    private static string Cell(string value)
    {
        if (value.Length > 0 && FormulaStarts.Contains(value[0]))
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    private static string? Unguarded(string? cell) =>
        cell is ['\'', var first, ..] && FormulaStarts.Contains(first) ? cell[1..] : cell;

    /// <summary>Rows to create. The id column (from an export) is ignored; unknown columns are refused rather than silently dropped.</summary>
    public static List<(int Line, IpSettingInput Input)> Read(string text)
    {
        var records = Split(text);
        if (records.Count == 0)
        {
            throw AdminProblemException.Invalid("csv", "the CSV is empty; the first line must be a header such as name,ip,accountId,prefix,sipProfileId,context,status");
        }

        var (headerLine, header) = records[0];
        var columns = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < header.Count; i++)
        {
            var name = header[i].Trim();
            var known = Known.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase))
                ?? throw new AdminProblemException(StatusCodes.Status400BadRequest, $"line {headerLine}: unknown column '{name}'; known columns: {string.Join(',', Known)}", "csv", headerLine);
            if (!columns.TryAdd(known, i))
            {
                throw new AdminProblemException(StatusCodes.Status400BadRequest, $"line {headerLine}: column '{known}' appears twice", "csv", headerLine);
            }
        }

        foreach (var required in new[] { "name", "ip", "accountId" })
        {
            if (!columns.ContainsKey(required))
            {
                throw new AdminProblemException(StatusCodes.Status400BadRequest, $"line {headerLine}: the header has no '{required}' column", "csv", headerLine);
            }
        }

        var rows = new List<(int, IpSettingInput)>(records.Count - 1);
        foreach (var (line, fields) in records.Skip(1))
        {
            if (fields.Count != header.Count)
            {
                throw new AdminProblemException(StatusCodes.Status400BadRequest, $"line {line}: {fields.Count} fields, but the header has {header.Count}", "csv", line);
            }

            string? Text(string column) => columns.TryGetValue(column, out var i) ? Unguarded(fields[i]) : null;
            int? Number(string column)
            {
                var value = Text(column)?.Trim();
                if (string.IsNullOrEmpty(value))
                {
                    return null;
                }

                return int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
                    ? n
                    : throw new AdminProblemException(StatusCodes.Status400BadRequest, $"line {line}: {column} '{value}' is not a whole number", column, line);
            }

            rows.Add((line, new IpSettingInput
            {
                Name = Text("name"),
                Ip = Text("ip"),
                AccountId = Number("accountId"),
                ResellerId = Number("resellerId"),
                Prefix = Text("prefix"),
                SipProfileId = Number("sipProfileId"),
                Context = Text("context"),
                Status = Number("status"),
            }));
        }

        return rows;
    }

    /// <summary>Records with the line they start on; blank lines are skipped.</summary>
    private static List<(int Line, List<string> Fields)> Split(string text)
    {
        var records = new List<(int, List<string>)>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var line = 1;
        var start = 1;
        var quoted = false;
        var fieldStarted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    line += c == '\n' ? 1 : 0;
                    field.Append(c);
                }

                continue;
            }

            switch (c)
            {
                case '"' when field.Length == 0:
                    quoted = true;
                    fieldStarted = true;
                    break;
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    fieldStarted = true;
                    break;
                case '\r':
                    break;
                case '\n':
                    End();
                    line++;
                    start = line;
                    break;
                default:
                    field.Append(c);
                    fieldStarted = true;
                    break;
            }
        }

        if (quoted)
        {
            throw new AdminProblemException(StatusCodes.Status400BadRequest, $"line {start}: a quoted field is not closed", "csv", start);
        }

        End();
        return records;

        void End()
        {
            if (fieldStarted || field.Length > 0 || fields.Count > 0)
            {
                fields.Add(field.ToString());
                records.Add((start, fields));
                fields = [];
            }

            field.Clear();
            fieldStarted = false;
        }
    }
}
