using System.Text.Json;


namespace FsDirectory.Database;

/// <summary>ASTPP keeps device and profile settings as flat JSON objects of name/value pairs.</summary>
public static class JsonFields
{
    /// <summary>
    /// Parses a flat JSON object. Strings are taken as they are, numbers and booleans as their JSON
    /// text, nulls are dropped; nested objects or arrays make the whole row invalid, since FreeSWITCH
    /// params are flat and guessing would change what the admin meant. Empty text is an empty object.
    /// </summary>
    public static bool TryParse(string? json, out KeyValuePair<string, string>[] fields, out string? error)
    {
        fields = [];
        error = null;
        if (string.IsNullOrWhiteSpace(json))
        {
            return true;
        }

        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 4 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                error = "is not a JSON object";
                return false;
            }

            var list = new List<KeyValuePair<string, string>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                string value;
                switch (property.Value.ValueKind)
                {
                    case JsonValueKind.String: value = property.Value.GetString()!; break;
                    case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False: value = property.Value.GetRawText(); break;
                    case JsonValueKind.Null: continue;
                    default:
                        error = $"key '{property.Name}' is a nested {property.Value.ValueKind}";
                        return false;
                }

                if (property.Name.Length == 0)
                {
                    continue;
                }

                // Last one wins, as in PHP's json_decode that ASTPP uses.
                if (!seen.Add(property.Name))
                {
                    list.RemoveAll(kv => kv.Key == property.Name);
                }

                list.Add(new(property.Name, value));
            }

            fields = [.. list];
            return true;
        }
        catch (JsonException ex)
        {
            error = $"is not valid JSON ({ex.Message.Split('.')[0]})";
            return false;
        }
    }

    public static string? Get(this KeyValuePair<string, string>[] fields, string name)
    {
        foreach (var field in fields)
        {
            if (string.Equals(field.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return field.Value;
            }
        }

        return null;
    }
}
