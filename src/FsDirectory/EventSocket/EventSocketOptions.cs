using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Options;

namespace FsDirectory.EventSocket;

public sealed class EventSocketOptions
{
    public const string Section = "EventSocket";

    /// <summary>FreeSWITCH nodes to push changes to (mod_event_socket). Empty: nothing is pushed.</summary>
    public List<EventSocketNodeOptions> Nodes { get; set; } = [];

    /// <summary>Floor between two <c>reloadacl</c> on one node: each reload takes FreeSWITCH's global ACL lock that every INVITE waits on.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan MinReloadInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Quiet time after a change before pushing, so a burst of edits becomes one command.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:30")]
    public TimeSpan Debounce { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Budget for TCP connect plus authentication.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:10")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromMilliseconds(1000);

    /// <summary>Budget for one <c>api</c> command's reply (reloadacl on a large list takes a few hundred ms).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:30")]
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMilliseconds(1500);

    /// <summary>How often a disconnected node is retried; a node that comes back then gets a <c>reloadacl</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan ReconnectInterval { get; set; } = TimeSpan.FromSeconds(1);
}

public sealed class EventSocketNodeOptions
{
    /// <summary><c>host:port</c> of mod_event_socket (default port 8021).</summary>
    public string Address { get; set; } = string.Empty;

    /// <summary>event_socket.conf's <c>password</c>. Never logged.</summary>
    public string Password { get; set; } = string.Empty;

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

        if (options.Nodes.Select(n => n.Address).Distinct(StringComparer.OrdinalIgnoreCase).Count() != options.Nodes.Count)
        {
            errors.Add("EventSocket:Nodes: the same Address is listed twice");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
