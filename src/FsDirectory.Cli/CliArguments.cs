using System.Globalization;

namespace FsDirectory.Cli;

/// <summary>A command's operands: "--name value" options, whole numbers, and the usage errors they raise.</summary>
internal static class CliArguments
{
    internal static Dictionary<string, string?> Options(List<string> operands)
    {
        var options = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < operands.Count; i++)
        {
            var name = operands[i];
            if (!name.StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"unexpected argument '{name}'");
            }

            if (name == "--inactive")
            {
                options[name] = "1";
                continue;
            }

            if (i + 1 >= operands.Count)
            {
                throw new UsageException($"{name} needs a value");
            }

            options[name] = operands[++i];
        }

        return options;
    }

    internal static int? Number(Dictionary<string, string?> options, string name)
    {
        if (!options.TryGetValue(name, out var text) || text is null)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new UsageException($"{name} '{text}' is not a whole number");
    }
}

/// <summary>Wrong arguments: the message and the help go to stderr, and the exit code is <see cref="CliApp.Usage"/>.</summary>
internal sealed class UsageException(string message) : Exception(message);
