using System.Net;
using System.Text;
using System.Text.Json;

namespace FsDirectory.Cli;

/// <summary>What fsdir prints: pages as tab-separated lines, other answers as indented JSON, refusals as one line on stderr.</summary>
internal static class CliOutput
{
    // Printed for a person on a terminal: quotes and '<' as they are, not \u0027 escapes.
    private static readonly JsonWriterOptions Pretty = new() { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A page of a list endpoint as tab-separated lines: the options become the query, the count goes to stderr.</summary>
    internal static async Task<int> TableAsync(
        HttpClient client, string path, Dictionary<string, string?> options, (string Option, string Parameter)[] parameters,
        string header, Func<JsonElement, string?[]> row, string noun, TextWriter stdout, TextWriter stderr)
    {
        var query = new List<string>();
        foreach (var (option, parameter) in parameters)
        {
            if (options.Remove(option, out var value) && value is not null)
            {
                query.Add($"{parameter}={Uri.EscapeDataString(value)}");
            }
        }

        if (options.Count > 0)
        {
            throw new UsageException($"unknown option {options.Keys.First()}");
        }

        using var response = await client.GetAsync(new Uri(path + (query.Count > 0 ? "?" + string.Join('&', query) : string.Empty), UriKind.Relative));
        if (!response.IsSuccessStatusCode)
        {
            return await ProblemAsync(response, stderr);
        }

        using var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        await stdout.WriteLineAsync(header);
        foreach (var item in page.RootElement.GetProperty("items").EnumerateArray())
        {
            await stdout.WriteLineAsync(string.Join('\t', row(item)));
        }

        var total = page.RootElement.GetProperty("total").GetInt64();
        var shown = page.RootElement.GetProperty("items").GetArrayLength();
        await stderr.WriteLineAsync($"{shown} of {total} {noun}, page {page.RootElement.GetProperty("page").GetInt32()}");
        return CliApp.Ok;
    }

    internal static async Task<int> PrintAsync(HttpResponseMessage response, TextWriter stdout, TextWriter stderr)
    {
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                return await ProblemAsync(response, stderr);
            }

            var text = await response.Content.ReadAsStringAsync();
            if (text.Length > 0)
            {
                using var json = JsonDocument.Parse(text);
                await stdout.WriteLineAsync(Indented(json.RootElement));
            }

            return CliApp.Ok;
        }
    }

    /// <summary>Problem details become one line on stderr: "fsdir: 400 Invalid IP setting: line 4: ...".</summary>
    internal static async Task<int> ProblemAsync(HttpResponseMessage response, TextWriter stderr)
    {
        var text = await response.Content.ReadAsStringAsync();
        var detail = text;
        var title = response.ReasonPhrase;
        try
        {
            using var json = JsonDocument.Parse(text);
            if (json.RootElement.TryGetProperty("detail", out var d))
            {
                detail = d.GetString();
            }

            if (json.RootElement.TryGetProperty("title", out var t))
            {
                title = t.GetString();
            }
        }
        catch (JsonException)
        {
            // Not problem details (e.g. the 404 of a server with the admin API off): print the status alone.
        }

        var hint = response.StatusCode == HttpStatusCode.NotFound && text.Length == 0 ? " (is the admin API enabled on the server?)" : string.Empty;
        await stderr.WriteLineAsync($"fsdir: {(int)response.StatusCode} {title}{(string.IsNullOrEmpty(detail) ? string.Empty : ": " + detail)}{hint}");
        return CliApp.Refused;
    }

    /// <summary>A response as a person reads it; written by hand because a native binary has no reflection-based serializer.</summary>
    private static string Indented(JsonElement element)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, Pretty))
        {
            element.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
