using System.Buffers;
using System.Text;

namespace FsDirectory.Xml;

/// <summary>How a <c>$</c> in a value reaches FreeSWITCH.</summary>
public enum Dollar
{
    /// <summary>Written as <c>&amp;#36;</c>: FreeSWITCH's line preprocessor never sees <c>$${...}</c>. For every value that callers, customers or devices control.</summary>
    Literal,

    /// <summary>Written as <c>$</c> so that <c>$${global}</c> expands. Only for admin-authored switch settings (sofia profiles, gateways).</summary>
    FreeSwitchGlobal,
}

/// <summary>
/// A small UTF-8 XML writer for FreeSWITCH replies. It exists because <c>XmlWriter</c>'s output is
/// broken by FreeSWITCH's line preprocessor (see FREESWITCH.md): one element per line so no data can
/// share a line with markup, the declaration alone on the first line, <c>&lt;</c> and line breaks in
/// data always escaped, and characters XML forbids replaced instead of throwing.
/// </summary>
public sealed class FsXmlWriter
{
    private static readonly byte[] Declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"u8.ToArray();
    private const string PreProcess = "X-PRE-PROCESS";
    private readonly ArrayBufferWriter<byte> _buffer;

    public FsXmlWriter(int initialCapacity = 4096)
        : this(initialCapacity, declaration: true)
    {
    }

    private FsXmlWriter(int initialCapacity, bool declaration)
    {
        _buffer = new ArrayBufferWriter<byte>(Math.Max(1, initialCapacity));
        if (declaration)
        {
            Raw(Declaration);
        }
    }

    /// <summary>A writer for a part of a document (no declaration), to be served with other parts.</summary>
    public static FsXmlWriter Fragment(int initialCapacity) => new(initialCapacity, declaration: false);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.WrittenMemory;

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    /// <summary>Forgets what was written and keeps the buffer, for a scratch writer whose parts are copied out one by one.</summary>
    public void Reset() => _buffer.ResetWrittenCount();

    public override string ToString() => Encoding.UTF8.GetString(_buffer.WrittenSpan);

    /// <summary>Writes <c>&lt;name</c>; follow with <see cref="Attr(string, string?, Dollar)"/> calls and <see cref="Open"/> or <see cref="Close"/>.</summary>
    public FsXmlWriter Start(string name)
    {
        Byte((byte)'<');
        Ascii(name);
        return this;
    }

    public FsXmlWriter Attr(string name, string? value, Dollar dollar = Dollar.Literal)
    {
        Byte((byte)' ');
        Ascii(name);
        Raw("=\""u8);
        Escaped(value ?? string.Empty, dollar);
        Byte((byte)'"');
        return this;
    }

    /// <summary>A number, address or other formattable value, written without an intermediate string.</summary>
    public FsXmlWriter Attr<T>(string name, T value)
        where T : ISpanFormattable
    {
        Span<char> text = stackalloc char[128];
        if (!value.TryFormat(text, out var written, default, System.Globalization.CultureInfo.InvariantCulture))
        {
            return Attr(name, value.ToString(null, System.Globalization.CultureInfo.InvariantCulture));
        }

        Byte((byte)' ');
        Ascii(name);
        Raw("=\""u8);
        Escaped(text[..written], Dollar.Literal);
        Byte((byte)'"');
        return this;
    }

    /// <summary>A number or address as escaped text inside an attribute value already opened (see <see cref="Fragment(ReadOnlySpan{byte})"/>).</summary>
    public FsXmlWriter Text<T>(T value)
        where T : ISpanFormattable
    {
        Span<char> text = stackalloc char[128];
        if (!value.TryFormat(text, out var written, default, System.Globalization.CultureInfo.InvariantCulture))
        {
            Escaped(value.ToString(null, System.Globalization.CultureInfo.InvariantCulture), Dollar.Literal);
            return this;
        }

        Escaped(text[..written], Dollar.Literal);
        return this;
    }

    /// <summary>Ends a start tag that will have children.</summary>
    public FsXmlWriter Open()
    {
        Raw(">\n"u8);
        return this;
    }

    /// <summary>Ends an empty element.</summary>
    public FsXmlWriter Close()
    {
        Raw("/>\n"u8);
        return this;
    }

    public FsXmlWriter End(string name)
    {
        Raw("</"u8);
        Ascii(name);
        Raw(">\n"u8);
        return this;
    }

    /// <summary>Opens <c>&lt;document&gt;&lt;section name&gt;</c>; close with <see cref="EndDocument"/>.</summary>
    public FsXmlWriter StartDocument(string section)
    {
        Start("document").Attr("type", "freeswitch/xml").Open();
        return Start("section").Attr("name", section).Open();
    }

    public FsXmlWriter EndDocument() => End("section").End("document");

    /// <summary>Appends an already written fragment (for example a cached per-snapshot part).</summary>
    public FsXmlWriter Fragment(ReadOnlySpan<byte> utf8Xml)
    {
        Raw(utf8Xml);
        return this;
    }

    private void Escaped(ReadOnlySpan<char> s, Dollar dollar)
    {
        var i = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && IsPlain(s[i]))
            {
                i++;
            }

            if (i > start)
            {
                Ascii(s[start..i]);
            }

            if (i == s.Length)
            {
                break;
            }

            var c = s[i];
            switch (c)
            {
                case '&': Raw("&amp;"u8); break;
                case '<': Raw("&lt;"u8); break;
                case '>': Raw("&gt;"u8); break;
                case '"': Raw("&quot;"u8); break;
                case '\'': Raw("&#39;"u8); break;
                case '$' when dollar == Dollar.FreeSwitchGlobal: Byte((byte)'$'); break;
                case '$': Raw("&#36;"u8); break;
                // Line breaks stay inside the element's line: FreeSWITCH preprocesses line by line.
                case '\t': Raw("&#9;"u8); break;
                case '\n': Raw("&#10;"u8); break;
                case '\r': Raw("&#13;"u8); break;
                case 'X' or 'x' when s[i..].StartsWith(PreProcess, StringComparison.OrdinalIgnoreCase):
                    Raw(c == 'X' ? "&#88;"u8 : "&#120;"u8);
                    break;
                case 'X' or 'x': Byte((byte)c); break;
                case < ' ' or '\uFFFE' or '\uFFFF': Replacement(); break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                    {
                        Utf8(s.Slice(i, 2));
                        i++;
                    }
                    else if (char.IsSurrogate(c))
                    {
                        Replacement();
                    }
                    else
                    {
                        Utf8(s.Slice(i, 1));
                    }

                    break;
            }

            i++;
        }
    }

    private static bool IsPlain(char c) =>
        c is >= ' ' and < (char)0x7F and not ('&' or '<' or '>' or '"' or '\'' or '$' or 'X' or 'x');

    private void Replacement() => Raw("\uFFFD"u8);

    private void Utf8(ReadOnlySpan<char> chars)
    {
        var span = _buffer.GetSpan(8);
        _buffer.Advance(Encoding.UTF8.GetBytes(chars, span));
    }

    private void Ascii(ReadOnlySpan<char> chars)
    {
        var span = _buffer.GetSpan(chars.Length);
        for (var i = 0; i < chars.Length; i++)
        {
            span[i] = (byte)chars[i];
        }

        _buffer.Advance(chars.Length);
    }

    private void Byte(byte b)
    {
        _buffer.GetSpan(1)[0] = b;
        _buffer.Advance(1);
    }

    private void Raw(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);
}
