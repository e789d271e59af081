using System.Text;

namespace FsDirectory.Migrations;

/// <summary>One statement of a SQL file, as it is sent to the server, and the line it starts on.</summary>
public sealed record SqlStatement(string Text, int Line);

/// <summary>
/// Splits a SQL file into statements the way the stock <c>mariadb</c> client does, so a file means
/// the same whether a DBA pipes it into the client or <c>fsdirectory migrate</c> applies it.
/// </summary>
/// <remarks>
/// The server cannot take a file as it is: <c>DELIMITER</c> is a client command, not SQL, and the
/// trigger files (004-007) need it because a trigger body holds <c>;</c>. So, like the client:
/// <list type="bullet">
/// <item><c>DELIMITER x</c> at the start of a line, between statements, changes the delimiter.</item>
/// <item>A delimiter inside '…', "…" or `…` (with backslash escapes in the first two) or inside a
/// comment does not end a statement.</item>
/// <item>Comments are dropped (the client's default, <c>--skip-comments</c>), so trigger bodies are
/// stored as the client stores them; <c>/*! … */</c> and <c>/*M! … */</c> are kept, since the server
/// executes them. <c>--</c> starts a comment only before whitespace, as in MariaDB.</item>
/// <item>Empty statements are skipped, and text after the last delimiter is a statement too.</item>
/// </list>
/// Anything the client would read differently is refused with its line instead of guessed at.
/// </remarks>
public static class SqlScript
{
    private const string DelimiterCommand = "DELIMITER";

    public static IReadOnlyList<SqlStatement> Split(string script)
    {
        var statements = new List<SqlStatement>();
        var current = new StringBuilder();
        var delimiter = ";";
        var line = 1;
        var startLine = 0;
        var atLineStart = true;
        var i = 0;

        void Flush()
        {
            var text = current.ToString().Trim();
            if (text.Length > 0)
            {
                statements.Add(new SqlStatement(text, startLine));
            }

            current.Clear();
            startLine = 0;
        }

        void Append(char c)
        {
            if (startLine == 0 && !char.IsWhiteSpace(c))
            {
                startLine = line;
            }

            current.Append(c);
        }

        while (i < script.Length)
        {
            if (atLineStart && TryReadDelimiterCommand(script, ref i, line, startLine != 0, out var newDelimiter))
            {
                delimiter = newDelimiter;
                continue;
            }

            atLineStart = false;
            var c = script[i];
            if (string.CompareOrdinal(script, i, delimiter, 0, delimiter.Length) == 0)
            {
                Flush();
                i += delimiter.Length;
                continue;
            }

            switch (c)
            {
                case '\'' or '"' or '`':
                    i = CopyQuoted(script, i, line, current, ref line, ref startLine);
                    continue;
                case '-' when i + 1 < script.Length && script[i + 1] == '-'
                              && (i + 2 == script.Length || char.IsWhiteSpace(script[i + 2]) || char.IsControl(script[i + 2])):
                case '#':
                    while (i < script.Length && script[i] != '\n')
                    {
                        i++;
                    }

                    continue;
                case '/' when i + 1 < script.Length && script[i + 1] == '*':
                    var executable = i + 2 < script.Length && (script[i + 2] == '!' || (script[i + 2] == 'M' && i + 3 < script.Length && script[i + 3] == '!'));
                    var end = script.IndexOf("*/", i + 2, StringComparison.Ordinal);
                    if (end < 0)
                    {
                        throw new SqlScriptException(line, "a /* comment is not closed");
                    }

                    var comment = script.AsSpan(i, end + 2 - i);
                    if (executable)
                    {
                        foreach (var ch in comment)
                        {
                            Append(ch);
                        }
                    }
                    else
                    {
                        // The comment stands for whitespace: "a/*x*/b" must not become "ab".
                        current.Append(' ');
                    }

                    line += comment.Count('\n');
                    i = end + 2;
                    continue;
                case '\n':
                    current.Append(c);
                    line++;
                    atLineStart = true;
                    i++;
                    continue;
                default:
                    Append(c);
                    i++;
                    continue;
            }
        }

        Flush();
        return statements;
    }

    /// <summary>
    /// At the start of a line: "DELIMITER x" (any case, after optional blanks) sets the delimiter to
    /// x and consumes the line. Inside an unfinished statement it is refused: the client would not
    /// read it as a command, and the statement before it has lost its delimiter.
    /// </summary>
    private static bool TryReadDelimiterCommand(string script, ref int i, int line, bool insideStatement, out string delimiter)
    {
        delimiter = "";
        var p = i;
        while (p < script.Length && script[p] is ' ' or '\t' or '\r')
        {
            p++;
        }

        if (p + DelimiterCommand.Length >= script.Length
            || string.Compare(script, p, DelimiterCommand, 0, DelimiterCommand.Length, StringComparison.OrdinalIgnoreCase) != 0
            || script[p + DelimiterCommand.Length] is not (' ' or '\t'))
        {
            return false;
        }

        if (insideStatement)
        {
            throw new SqlScriptException(line, "DELIMITER inside a statement (the statement before it has no delimiter)");
        }

        var endOfLine = script.IndexOf('\n', p);
        endOfLine = endOfLine < 0 ? script.Length : endOfLine;
        var argument = script[(p + DelimiterCommand.Length)..endOfLine].Trim();
        var token = argument.Split([' ', '\t'], 2)[0];
        if (token.Length == 0 || token.Contains('\\', StringComparison.Ordinal))
        {
            throw new SqlScriptException(line, "DELIMITER needs a delimiter without a backslash");
        }

        delimiter = token;
        i = endOfLine;
        return true;
    }

    /// <summary>Copies a quoted string or identifier whole; returns the index after its closing quote.</summary>
    private static int CopyQuoted(string script, int i, int openedOn, StringBuilder current, ref int line, ref int startLine)
    {
        var quote = script[i];
        if (startLine == 0)
        {
            startLine = line;
        }

        current.Append(quote);
        i++;
        while (i < script.Length)
        {
            var c = script[i];
            current.Append(c);
            i++;
            if (c == '\n')
            {
                line++;
            }
            else if (c == '\\' && quote != '`' && i < script.Length)
            {
                if (script[i] == '\n')
                {
                    line++;
                }

                current.Append(script[i]);
                i++;
            }
            else if (c == quote)
            {
                // A doubled quote is an escaped one: the loop goes on after reopening.
                if (i < script.Length && script[i] == quote)
                {
                    current.Append(quote);
                    i++;
                    continue;
                }

                return i;
            }
        }

        throw new SqlScriptException(openedOn, $"a {quote} quote is not closed");
    }
}

/// <summary>A file the splitter cannot read as the client would; nothing of it is run.</summary>
public sealed class SqlScriptException(int line, string problem) : Exception($"line {line}: {problem}")
{
    public int Line { get; } = line;
}
