namespace FsDirectory.FreeSwitch;

/// <summary>
/// Caller-controlled values (numbers, user names, contexts) on their way into a log line: control
/// characters would let a caller forge log lines, and unbounded values would let one request fill
/// the log, so both are neutralised.
/// </summary>
public static class LogText
{
    public const int MaxLength = 80;

    public static string Bounded(string value)
    {
        var span = value.AsSpan(0, Math.Min(value.Length, MaxLength));
        var clean = string.Create(span.Length, value, static (chars, v) =>
        {
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = char.IsControl(v[i]) ? '?' : v[i];
            }
        });
        return value.Length > MaxLength ? clean + "…" : clean;
    }
}
