using System.Net;
using System.Text;

namespace FsDirectory.Tests.Infrastructure;

/// <summary>A real mod_xml_curl body from shared/fixtures/freeswitch, with fields changed where a test needs another case.</summary>
public sealed class FreeSwitchForm
{
    private readonly List<(string Key, string RawValue)> _fields;

    private FreeSwitchForm(List<(string Key, string RawValue)> fields) => _fields = fields;

    public static FreeSwitchForm Load(string fixture)
    {
        var body = File.ReadAllText(Paths.FreeSwitchFixture(fixture)).TrimEnd('\n', '\r');
        return new FreeSwitchForm(body.Split('&').Select(pair =>
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            return eq < 0 ? (pair, string.Empty) : (pair[..eq], pair[(eq + 1)..]);
        }).ToList());
    }

    public string? this[string key] =>
        _fields.Where(f => f.Key == key).Select(f => WebUtility.UrlDecode(f.RawValue)).FirstOrDefault();

    /// <summary>Sets (or adds) a field; the value is URL-encoded as FreeSWITCH encodes event headers.</summary>
    public FreeSwitchForm With(string key, string value) => WithRawValue(key, Uri.EscapeDataString(value));

    /// <summary>Sets (or adds) a field to an already-encoded value, for encodings FreeSWITCH would never send (raw %FF, lone %).</summary>
    public FreeSwitchForm WithRawValue(string key, string rawValue)
    {
        var copy = new List<(string Key, string RawValue)>(_fields);
        var index = copy.FindIndex(f => f.Key == key);
        if (index >= 0)
        {
            copy[index] = (key, rawValue);
        }
        else
        {
            copy.Add((key, rawValue));
        }

        return new FreeSwitchForm(copy);
    }

    public FreeSwitchForm Without(string key) => new(_fields.Where(f => f.Key != key).ToList());

    /// <summary>Inserts a field right after <paramref name="existing"/>, where FreeSWITCH writes a header's renamed copy.</summary>
    public FreeSwitchForm WithAfter(string existing, string key, string value)
    {
        var copy = new List<(string Key, string RawValue)>(_fields);
        var index = copy.FindLastIndex(f => f.Key == existing || f.Key.StartsWith(existing + "-", StringComparison.OrdinalIgnoreCase));
        copy.Insert(index < 0 ? copy.Count : index + 1, (key, Uri.EscapeDataString(value)));
        return new FreeSwitchForm(copy);
    }

    /// <summary>Appends a raw pair as is (duplicates, broken encodings).</summary>
    public FreeSwitchForm WithRaw(string key, string rawValue) => new([.. _fields, (key, rawValue)]);

    public string Body => string.Join('&', _fields.Select(f => f.Key + "=" + f.RawValue));

    public int Count => _fields.Count;

    public HttpContent ToContent()
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(Body));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-www-form-urlencoded");
        return content;
    }
}
