using System.Buffers;

namespace FsDirectory.IpAuth;

/// <summary>
/// Character sets for values that end up in dialplan action data. FreeSWITCH expands <c>${...}</c>
/// in action data at execution time, and <c>transfer</c> splits its data on spaces, so anything
/// outside these sets never reaches an action.
/// </summary>
public static class DialString
{
    public const int MaxNumberLength = 64;

    private static readonly SearchValues<char> NumberChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+*#._-");

    // Prefixes are matched literally; '%' is allowed as an ordinary character (never a LIKE pattern).
    private static readonly SearchValues<char> PrefixChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+*#._-%");

    private static readonly SearchValues<char> ContextChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

    /// <summary>A dialled number after prefix removal: non-empty, at most 64 characters of <c>A-Z a-z 0-9 + * # . _ -</c>.</summary>
    public static bool IsValidNumber(ReadOnlySpan<char> number) =>
        number.Length is > 0 and <= MaxNumberLength && !number.ContainsAnyExcept(NumberChars);

    public static bool IsValidPrefix(ReadOnlySpan<char> prefix) =>
        prefix.Length <= 20 && !prefix.ContainsAnyExcept(PrefixChars);

    /// <summary>Account codes and dialplan contexts: one token, no expansion characters.</summary>
    public static bool IsValidToken(ReadOnlySpan<char> value) =>
        value.Length is > 0 and <= 64 && !value.ContainsAnyExcept(ContextChars);

    /// <summary>Free text (a rule name) made safe for <c>set</c> data: expansion and control characters become '_'.</summary>
    public static string ToSafeText(string value)
    {
        if (!value.AsSpan().ContainsAny(Unsafe))
        {
            return value;
        }

        return string.Create(value.Length, value, static (span, v) =>
        {
            for (var i = 0; i < v.Length; i++)
            {
                span[i] = Unsafe.Contains(v[i]) ? '_' : v[i];
            }
        });
    }

    private static readonly SearchValues<char> Unsafe = SearchValues.Create(
        "${}\\'\"\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\u007f");
}
