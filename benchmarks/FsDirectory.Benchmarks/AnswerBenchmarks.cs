using BenchmarkDotNet.Attributes;
using FsDirectory.Acl;
using FsDirectory.ChangeFeed;
using FsDirectory.FreeSwitch;
using FsDirectory.IpAuth;
using FsDirectory.Limits;
using FsDirectory.Metrics;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FsDirectory.Benchmarks;

/// <summary>Building the snapshot from rows as the reloader does (the rows already read).</summary>
public class SnapshotBuildBenchmarks
{
    private SnapshotBuilder _builder = null!;
    private SnapshotData _rulesOnly = null!;
    private SnapshotData _rulesAndDevices = null!;

    [GlobalSetup]
    public void Setup()
    {
        _builder = new SnapshotBuilder(new FixedOptions<FreeSwitchOptions>(new FreeSwitchOptions()), TimeProvider.System);
        var rules = BenchData.Rules(100_000, RuleFamily.Mixed);
        _rulesOnly = BenchData.Rows(rules, devices: 0);
        _rulesAndDevices = BenchData.Rows(rules, devices: 100_000);
    }

    [Benchmark]
    public int Rules_100k() => _builder.Build(_rulesOnly, 1).UsableRules.Count;

    [Benchmark]
    public int Rules_100k_and_devices_100k() => _builder.Build(_rulesAndDevices, 1).Devices.Count;
}

/// <summary>acl.conf for 100k rules, aggregated; a fresh snapshot each time so the per-snapshot cache does not answer.</summary>
public class AclConfBenchmarks
{
    private Snapshot _snapshot = null!;
    private AclConfAnswers _answers = null!;

    [Params(RuleFamily.Mixed, RuleFamily.Dense)]
    public RuleFamily Rules { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _snapshot = Fixtures.Snapshot(100_000, devices: 0, Rules);
        _answers = new AclConfAnswers(new FixedOptions<AclOptions>(new AclOptions()));
        var body = _answers.Answer(Fresh()).Body;
        var nodes = AclConfAnswers.ProfileNetworks(_snapshot).Sum(l => l.Value.Count);
        Console.WriteLine($"// acl.conf for {_snapshot.UsableRules.Count} rules: {body.Length} bytes, {nodes} nodes after aggregation");
    }

    [Benchmark]
    public long AclConf_100k_rules() => _answers.Answer(Fresh()).Length;

    /// <summary>What each new snapshot's digest costs: the document hashed as written out.</summary>
    [Benchmark]
    public byte[] AclConf_100k_rules_digest() => _answers.Answer(Fresh()).Sha256();

    /// <summary>What a fetch costs once the document is built: writing it into the response.</summary>
    [Benchmark]
    public async Task<long> AclConf_100k_rules_served()
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext { Response = { Body = Stream.Null } };
        await _answers.Answer(_snapshot).ExecuteAsync(context);
        return context.Response.ContentLength ?? 0;
    }

    /// <summary>The aggregation alone, to tell it from the XML writing.</summary>
    [Benchmark]
    public int Aggregation_only_100k_rules() => AclConfAnswers.ProfileNetworks(_snapshot).Sum(l => l.Value.Count);

    private Snapshot Fresh() => _snapshot.Copy(_snapshot.FeedPosition, keepAnswers: false);
}

/// <summary>The dialplan answer for a bound request (form already parsed), at 100k rules.</summary>
public class DialplanAnswerBenchmarks
{
    private Snapshot _snapshot = null!;
    private DialplanAnswers _answers = null!;
    private FreeSwitchRequest _hit = null!;
    private FreeSwitchRequest _proxied = null!;
    private FreeSwitchRequest _miss = null!;
    private Snapshot _limitedSnapshot = null!;

    /// <summary>The call of <see cref="Dialplan_hit_with_limits"/> with Limits:Enabled false (the same snapshot): for LimitsRatio.</summary>
    public int Disabled_on_limited_snapshot() => _answers.Answer(_hit, _limitedSnapshot).Body.Length;
    private DialplanAnswers _limitedAnswers = null!;

    [GlobalSetup]
    public void Setup()
    {
        _snapshot = Fixtures.Snapshot(100_000, devices: 0);
        _answers = Answers(new LimitsOptions());

        // The same rules, every account with both limits and a reseller (account 1) with both: four limits a call.
        var rows = BenchData.Rows(BenchData.Rules(100_000, RuleFamily.Mixed), devices: 0);
        _limitedSnapshot = new SnapshotBuilder(new FixedOptions<FreeSwitchOptions>(new FreeSwitchOptions()), TimeProvider.System).Build(rows with
        {
            Accounts = [.. rows.Accounts.Select(static a => a.Id == 1 ? a with { MaxChannels = 100, Cps = 20 } : a with { MaxChannels = 10, Cps = 5, ResellerId = 1 })],
        }, 1);
        _limitedAnswers = Answers(new LimitsOptions { Enabled = true });
        var rule = _snapshot.UsableRules.First(r => r.Prefix.Length > 0 && r.Network.IsV4);
        _hit = Fixtures.Dialplan(new IpAddressKey(rule.Network.Bits, true).ToString(), rule.Prefix + BenchData.Tail);
        _proxied = Fixtures.Dialplan(BenchData.Proxy, rule.Prefix + BenchData.Tail, xAuthIp: new IpAddressKey(rule.Network.Bits, true).ToString());
        _miss = Fixtures.Dialplan("192.0.2.1", rule.Prefix + BenchData.Tail);
        if (_answers.Answer(_hit, _snapshot).Outcome != "answered" || _answers.Answer(_miss, _snapshot).Outcome != "rejected"
            || !System.Text.Encoding.UTF8.GetString(_answers.Answer(_proxied, _snapshot).Body.Span).Contains("fsdir_source_ip=", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("benchmark requests do not hit and miss as intended");
        }

        var limited = System.Text.Encoding.UTF8.GetString(_limitedAnswers.Answer(_hit, _limitedSnapshot).Body.Span);
        if (limited.Split("application=\"limit\"").Length != 5)
        {
            throw new InvalidOperationException("the limited answer does not carry four limits: " + limited);
        }
    }

    private static DialplanAnswers Answers(LimitsOptions limits) =>
        new(new FixedOptions<FreeSwitchOptions>(new FreeSwitchOptions()), new FixedOptions<LimitsOptions>(limits),
            new FsDirectoryMetrics(new SnapshotHolder(), new ReloadStatus(), TimeProvider.System), TimeProvider.System, NullLogger<DialplanAnswers>.Instance);

    /// <summary>The same call as <see cref="Dialplan_hit_with_prefix"/>, with Limits:Enabled and account and reseller limits (four limit actions).</summary>
    [Benchmark]
    public int Dialplan_hit_with_limits() => _limitedAnswers.Answer(_hit, _limitedSnapshot).Body.Length;

    [Benchmark]
    public int Dialplan_hit_with_prefix() => _answers.Answer(_hit, _snapshot).Body.Length;

    [Benchmark]
    public int Dialplan_hit_with_prefix_via_proxy() => _answers.Answer(_proxied, _snapshot).Body.Length;

    [Benchmark]
    public int Dialplan_miss() => _answers.Answer(_miss, _snapshot).Body.Length;
}

public static class Fixtures
{
    public static Snapshot Snapshot(int rules, int devices, RuleFamily family = RuleFamily.Mixed) =>
        new SnapshotBuilder(new FixedOptions<FreeSwitchOptions>(new FreeSwitchOptions()), TimeProvider.System)
            .Build(BenchData.Rows(BenchData.Rules(rules, family), devices), 1);

    /// <summary>The repository's sibling shared/ folder holds the real FreeSWITCH captures.</summary>
    public static string FreeSwitchForm(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FsDirectory.sln")))
            {
                return File.ReadAllText(Path.Combine(dir.FullName, "..", "shared", "fixtures", "freeswitch", name + ".form")).TrimEnd('\r', '\n');
            }
        }

        throw new InvalidOperationException("FsDirectory.sln not found above " + AppContext.BaseDirectory);
    }

    /// <param name="xAuthIp">With a value: the real proxied capture, relayed from <paramref name="source"/> for this caller.</param>
    public static FreeSwitchRequest Dialplan(string source, string number, string? xAuthIp = null)
    {
        var fields = QueryHelpers.ParseQuery(FreeSwitchForm(xAuthIp is null ? "dialplan-acl-authed-tech-prefix" : "dialplan-proxied-x-auth-ip"));
        if (xAuthIp is not null)
        {
            fields["variable_sip_h_X-AUTH-IP"] = xAuthIp;
        }

        fields["Hunt-Network-Addr"] = source;
        fields["Caller-Network-Addr"] = source;
        fields["Caller-Destination-Number"] = number;
        fields["Hunt-Destination-Number"] = number;
        return FreeSwitchRequest.FromFields(fields);
    }
}

public sealed class FixedOptions<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;

    public T Get(string? name) => value;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
