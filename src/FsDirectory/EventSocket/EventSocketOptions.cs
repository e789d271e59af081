using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Options;

namespace FsDirectory.EventSocket;

public sealed class EventSocketOptions
{
    public const string Section = "EventSocket";

    /// <summary>FreeSWITCH nodes to push changes to (mod_event_socket). Empty: nothing is pushed.</summary>
    public List<EventSocketNodeOptions> Nodes { get; set; } = [];

    /// <summary>
    /// Floor between the end of one <c>reloadacl</c> on a node and the start of the next: each reload
    /// holds FreeSWITCH's global ACL lock that every INVITE waits on. The gap is also never shorter
    /// than the last reload took, so a switch spends at most half its time reloading however fast edits come.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan MinReloadInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Quiet time after a change before pushing, so a burst of edits becomes one command.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:30")]
    public TimeSpan Debounce { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// Budget for TCP connect plus authentication. While a switch reloads its ACL, a new Event Socket
    /// connection waits for the same lock (mod_event_socket checks its own apply-inbound-acl), so a
    /// connect during a reload times out; that is expected and does not resend anything.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:30")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Budget for one quick exchange: the <c>bgapi</c> acknowledgement, <c>global_getvar</c>,
    /// <c>global_setvar</c>. Reloads and rescans do not run under it: they are sent with <c>bgapi</c>,
    /// which FreeSWITCH acknowledges at once, and their result comes as a BACKGROUND_JOB event
    /// (see <see cref="JobTimeout"/>). On a real 1.11.1, <c>reloadacl</c> took 0.24-0.36 s at 10k
    /// rules and 22-63 s at 100k, far beyond any budget a blocking <c>api</c> could be given.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:30")]
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How long a <c>reloadacl</c> or rescan whose result may have been missed (the connection it was
    /// sent on dropped, or this service restarted) is treated as possibly still running on the switch:
    /// nothing else is sent to that switch meanwhile, and then the command is sent again. A bgapi job
    /// belongs to the switch, not to the connection, so only its BACKGROUND_JOB event or a switch
    /// restart (a new core_uuid) ends it earlier. While the connection it was sent on stays open, its
    /// result is awaited however long it takes. Default: about three times the slowest reload measured
    /// at 100k rules (63 s on FreeSWITCH 1.11.1).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan JobTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>How often a disconnected node is retried at first; a node that came back restarted then gets a <c>reloadacl</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan ReconnectInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Ceiling of the reconnect back-off (the interval doubles after each failed attempt): every
    /// connect attempt during a reload parks a thread on the switch until the ACL lock is free.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan MaxReconnectInterval { get; set; } = TimeSpan.FromSeconds(15);
}

public sealed class EventSocketNodeOptions
{
    /// <summary><c>host:port</c> of mod_event_socket (default port 8021).</summary>
    public string Address { get; set; } = string.Empty;

    /// <summary>event_socket.conf's <c>password</c>. Never logged.</summary>
    public string Password { get; set; } = string.Empty;

    /// <summary>
    /// The switch's <c>switchname</c> (switch.conf; by default the machine's host name): what its
    /// mod_xml_curl sends as <c>hostname</c> in a configuration fetch. hash.conf is answered by it: a
    /// switch gets every other node as a remote, never itself (see <see cref="Limits.LimitsOptions"/>).
    /// Empty: the node is still listed for the others (named by its Address), but a switch fetching
    /// hash.conf cannot be told apart from it, so it gets no remotes.
    /// </summary>
    public string SwitchName { get; set; } = string.Empty;

    public bool TryGetEndpoint(out string host, out int port)
    {
        host = string.Empty;
        port = 0;
        var colon = Address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(Address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            return false;
        }

        host = Address[..colon].Trim('[', ']');
        return host.Length > 0;
    }
}

/// <summary>Refuses to start with a node address that cannot be connected to or a missing password.</summary>
public sealed class EventSocketOptionsValidator : IValidateOptions<EventSocketOptions>
{
    public ValidateOptionsResult Validate(string? name, EventSocketOptions options)
    {
        var errors = new List<string>();
        for (var i = 0; i < options.Nodes.Count; i++)
        {
            var node = options.Nodes[i];
            if (!node.TryGetEndpoint(out _, out _))
            {
                errors.Add($"EventSocket:Nodes:{i}:Address must be host:port, got '{node.Address}'");
            }

            if (string.IsNullOrEmpty(node.Password) || node.Password.Contains('\n', StringComparison.Ordinal))
            {
                errors.Add($"EventSocket:Nodes:{i}:Password must be set and be one line");
            }
        }

        for (var i = 0; i < options.Nodes.Count; i++)
        {
            // Also hash.conf's remote name and an argument of `hash_remote kill`: one word.
            if (options.Nodes[i].SwitchName is { Length: > 0 } switchName && !IsSwitchName(switchName))
            {
                errors.Add($"EventSocket:Nodes:{i}:SwitchName must be 1-64 characters of A-Z a-z 0-9 . _ -, got '{switchName}'");
            }
        }

        if (options.Nodes.Where(static n => n.SwitchName.Length > 0).Select(static n => n.SwitchName).Distinct(StringComparer.OrdinalIgnoreCase).Count()
            != options.Nodes.Count(static n => n.SwitchName.Length > 0))
        {
            errors.Add("EventSocket:Nodes: the same SwitchName is listed twice");
        }

        if (options.MaxReconnectInterval < options.ReconnectInterval)
        {
            errors.Add("EventSocket:MaxReconnectInterval must not be shorter than EventSocket:ReconnectInterval");
        }

        if (options.Nodes.Select(n => n.Address).Distinct(StringComparer.OrdinalIgnoreCase).Count() != options.Nodes.Count)
        {
            errors.Add("EventSocket:Nodes: the same Address is listed twice");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool IsSwitchName(string name) =>
        name.Length <= 64 && name.All(static c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
