namespace FsDirectory.Limits;

/// <summary>
/// Brings one switch's mod_hash remotes in line with hash.conf as served now, over its Event Socket.
/// <c>hash_remote rescan</c> re-reads hash.conf but only adds the remotes it does not know by name
/// (mod_hash.c, do_config with reload): a removed node, or one whose host, port or password changed,
/// must be dropped first with <c>hash_remote kill &lt;name&gt;</c>. What the switch was last given is
/// kept on the switch itself, in a global variable (<see cref="HashConfAnswers.RemotesToken"/>), so
/// that any instance that holds the push lease later, with this configuration or a newer one, knows
/// what to change; a switch already in line costs one <c>global_getvar</c>.
/// </summary>
public static class HashRemoteSync
{
    public const string Variable = "fsdir_hash_remotes";

    /// <summary>The commands, in order, that take a switch from <paramref name="loaded"/> to <paramref name="wanted"/>; empty when nothing changes.</summary>
    public static IReadOnlyList<string> Commands(string loaded, string wanted)
    {
        if (loaded == wanted)
        {
            return [];
        }

        var want = Parse(wanted);
        var commands = Parse(loaded).Where(had => want.GetValueOrDefault(had.Key) != had.Value)
            .Select(static had => "hash_remote kill " + had.Key)
            .ToList();
        commands.Add("hash_remote rescan");
        commands.Add($"global_setvar {Variable}={wanted}");
        return commands;
    }

    /// <summary>
    /// Runs <see cref="Commands"/> through <paramref name="api"/> (one <c>api</c> exchange each, quick:
    /// a rescan fetches hash.conf and starts a thread per new remote). Returns the first refusal
    /// (e.g. <c>-ERR</c> without mod_hash), or null; a kill refused because the remote is gone already is fine.
    /// </summary>
    public static async Task<string?> RunAsync(Func<string, CancellationToken, Task<string>> api, string wanted, CancellationToken cancellationToken)
    {
        var loaded = (await api("global_getvar " + Variable, cancellationToken)).Trim();
        if (loaded.StartsWith('-'))
        {
            return loaded;
        }

        foreach (var command in Commands(loaded, wanted))
        {
            var reply = (await api(command, cancellationToken)).Trim();
            if (reply.StartsWith("-ERR", StringComparison.Ordinal) && !command.StartsWith("hash_remote kill ", StringComparison.Ordinal))
            {
                return $"{command}: {reply}";
            }
        }

        return null;
    }

    private static Dictionary<string, string> Parse(string token) =>
        token.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(static entry => (Name: entry[..Math.Max(0, entry.LastIndexOf('/'))], Digest: entry[(entry.LastIndexOf('/') + 1)..]))
            .Where(static e => e.Name.Length > 0)
            .GroupBy(static e => e.Name, StringComparer.Ordinal)
            .ToDictionary(static g => g.Key, static g => g.First().Digest, StringComparer.Ordinal);
}
