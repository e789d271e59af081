using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FsDirectory.EventSocket;
using FsDirectory.FreeSwitch;
using FsDirectory.Xml;
using Microsoft.Extensions.Options;

namespace FsDirectory.Limits;

/// <summary>One other switch a switch polls for its limit usage (hash.conf's <c>&lt;remote&gt;</c>).</summary>
public sealed record HashRemote(string Name, string Host, int Port, string Password);

/// <summary>
/// hash.conf: makes <c>limit hash</c> count across the switches. mod_hash reads
/// <c>&lt;remotes&gt;&lt;remote name host port password interval/&gt;&lt;/remotes&gt;</c> straight under
/// <c>&lt;configuration&gt;</c> (mod_hash.c, do_config), connects to each remote's Event Socket, polls
/// <c>hash_dump limit</c> every <c>interval</c> ms and adds the remotes' concurrent usage to its own
/// when it checks a <c>max</c>. A switch must never list itself (it would count its calls twice), and
/// a configuration fetch names the switch only by <c>hostname</c> (its switchname), so each
/// <c>EventSocket:Nodes</c> entry carries the <c>SwitchName</c> it is known by.
/// <para>
/// Accuracy: another switch's usage is seen up to <c>interval</c> late, so a burst arriving on N
/// switches at once can overshoot a limit by up to the burst. mod_hash adds the remotes' usage to
/// concurrent counts only: the calls-per-second limit is checked against the switch's own rate, so N
/// switches admit up to N times <c>cps</c>.
/// </para>
/// </summary>
public sealed partial class HashConfAnswers(
    IOptions<EventSocketOptions> eventSocket, IOptionsMonitor<LimitsOptions> limits, IOptionsMonitor<FreeSwitchOptions> freeSwitch,
    TimeProvider time, ILogger<HashConfAnswers> logger)
{
    public const string ConfigurationName = "hash.conf";

    private readonly LogThrottle _unplacedLines = new(freeSwitch, time);

    public XmlAnswer Answer(FreeSwitchRequest request)
    {
        var options = limits.CurrentValue;
        if (!options.Enabled)
        {
            // The switch keeps its own hash.conf (the stock one has no remotes).
            return XmlAnswer.NotFound;
        }

        var nodes = eventSocket.Value.Nodes;
        var remotes = options.UsesHash ? RemotesFor(request.Hostname, nodes) : [];
        if (remotes is null)
        {
            remotes = [];
            if (nodes.Count > 0 && _unplacedLines.TryWrite(out var suppressed))
            {
                LogUnplaced(LogText.Bounded(request.Hostname), suppressed);
            }
        }

        var xml = new FsXmlWriter(1024).StartDocument("configuration");
        xml.Start("configuration").Attr("name", ConfigurationName).Attr("description", "mod_hash remotes (FsDirectory)").Open();
        xml.Start("remotes").Open();
        var interval = ((int)options.RemoteInterval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        foreach (var remote in remotes)
        {
            xml.Start("remote").Attr("name", remote.Name).Attr("host", remote.Host).Attr("port", remote.Port)
                .Attr("password", remote.Password).Attr("interval", interval).Close();
        }

        xml.End("remotes").End("configuration").EndDocument();
        return new XmlAnswer(xml.WrittenMemory, "answered");
    }

    /// <summary>
    /// Every node but the one whose SwitchName is <paramref name="switchName"/> (compared as host
    /// names are, ignoring case); null when no node has that name, so the switch cannot be placed.
    /// </summary>
    public static IReadOnlyList<HashRemote>? RemotesFor(string switchName, IReadOnlyList<EventSocketNodeOptions> nodes)
    {
        if (switchName.Length == 0 || !nodes.Any(n => string.Equals(n.SwitchName, switchName, StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        var remotes = new List<HashRemote>(nodes.Count);
        foreach (var node in nodes)
        {
            if (!string.Equals(node.SwitchName, switchName, StringComparison.OrdinalIgnoreCase) && node.TryGetEndpoint(out var host, out var port))
            {
                remotes.Add(new HashRemote(RemoteName(node), host, port, node.Password));
            }
        }

        return remotes;
    }

    /// <summary>hash.conf's remote name for a node: its SwitchName, or its Address when it has none.</summary>
    public static string RemoteName(EventSocketNodeOptions node) => node.SwitchName.Length > 0 ? node.SwitchName : node.Address;

    /// <summary>
    /// What <paramref name="node"/>'s switch should have loaded, as <c>name/digest</c> per remote
    /// (sorted, comma-separated; the digest covers host, port, password and interval, and shows none
    /// of them). Kept on the switch after a rescan, so whichever instance pushes later can tell what
    /// changed: <c>hash_remote rescan</c> only adds remotes it does not know by name, so a removed or
    /// changed one must be killed first. Empty when limits are off or the switch cannot be placed.
    /// </summary>
    public static string RemotesToken(EventSocketNodeOptions node, IReadOnlyList<EventSocketNodeOptions> nodes, LimitsOptions options)
    {
        if (!options.Enabled || !options.UsesHash || RemotesFor(node.SwitchName, nodes) is not { Count: > 0 } remotes)
        {
            return string.Empty;
        }

        var interval = (int)options.RemoteInterval.TotalMilliseconds;
        return string.Join(',', remotes.OrderBy(static r => r.Name, StringComparer.Ordinal).Select(r =>
        {
            var digest = SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{r.Host}\n{r.Port}\n{r.Password}\n{interval}")));
            return r.Name + "/" + Convert.ToHexStringLower(digest.AsSpan(0, 4));
        }));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "hash.conf fetched by switch '{SwitchName}', which no EventSocket:Nodes entry names as its SwitchName: answered without remotes, so its limits count its own calls only ({Suppressed} similar lines left out before this one)")]
    private partial void LogUnplaced(string switchName, long suppressed);
}
