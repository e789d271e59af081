using BenchmarkDotNet.Attributes;
using FsDirectory.IpAuth;

namespace FsDirectory.Benchmarks;

/// <summary>One call's inputs, prepared before the measurement.</summary>
public readonly record struct Lookup(IpAddressKey Source, string Number);

/// <summary>
/// ns per lookup of <see cref="IpRuleIndex.Match"/>. Each invocation runs a batch of different
/// lookups spread over the whole rule set, so at 1M rules the cost includes the cache misses a
/// real switch would cause, not one hot entry.
/// </summary>
public class MatcherBenchmarks
{
    public const int Batch = 1024;

    private IpRuleIndex _index = IpRuleIndex.Empty;
    private Lookup[] _hits = [];
    private Lookup[] _misses = [];

    [Params(1_000, 100_000, 1_000_000)]
    public int Rules { get; set; }

    [Params(RuleFamily.V4, RuleFamily.V6)]
    public RuleFamily Family { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rules = BenchData.Rules(Rules, Family).Select(BenchData.ToRule).ToList();
        _index = new IpRuleIndex(rules);
        (_hits, _misses) = Lookups(rules, Family, Batch);
        if (_hits.Any(h => _index.Match(h.Source, h.Number, "default") is null) || _misses.Any(m => _index.Match(m.Source, m.Number, "default") is not null))
        {
            throw new InvalidOperationException("benchmark data does not hit and miss as intended");
        }
    }

    /// <summary>Hits on rules that need a tech prefix (the dearer path: several prefix lengths probed).</summary>
    public static (Lookup[] Hits, Lookup[] Misses) Lookups(IReadOnlyList<IpRule> rules, RuleFamily family, int count)
    {
        var random = new Random(42);
        var prefixed = rules.Where(r => r.Prefix.Length > 0).ToArray();
        var hits = Enumerable.Range(0, count)
            .Select(_ => prefixed[random.Next(prefixed.Length)])
            .Select(r => new Lookup(BenchData.SourceIn(r.Network, random), r.Prefix + BenchData.Tail))
            .ToArray();
        var missNetwork = family == RuleFamily.V6 ? BenchData.MissV6 : BenchData.MissV4;
        var misses = Enumerable.Range(0, count)
            .Select(_ => new Lookup(BenchData.SourceIn(missNetwork, random), prefixed[random.Next(prefixed.Length)].Prefix + BenchData.Tail))
            .ToArray();
        return (hits, misses);
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int HitWithPrefix() => Run(_hits);

    [Benchmark(OperationsPerInvoke = Batch)]
    public int Miss() => Run(_misses);

    private int Run(Lookup[] lookups)
    {
        var sum = 0;
        foreach (var lookup in lookups)
        {
            sum += _index.Match(lookup.Source, lookup.Number, "default")?.Id ?? 0;
        }

        return sum;
    }
}

/// <summary>
/// The contrast: what ASTPP does per call, one pass over every rule (its INET_ATON scan query,
/// without even the database round trip).
/// </summary>
public class LinearScanBaseline
{
    private const int Batch = 16;

    private IpRule[] _rules = [];
    private Lookup[] _hits = [];
    private Lookup[] _misses = [];

    [Params(1_000, 100_000)]
    public int Rules { get; set; }

    [Params(RuleFamily.V4, RuleFamily.V6)]
    public RuleFamily Family { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _rules = BenchData.Rules(Rules, Family).Select(BenchData.ToRule).ToArray();
        (_hits, _misses) = MatcherBenchmarks.Lookups(_rules, Family, Batch);
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int HitWithPrefix() => Run(_hits);

    [Benchmark(OperationsPerInvoke = Batch)]
    public int Miss() => Run(_misses);

    private int Run(Lookup[] lookups)
    {
        var sum = 0;
        foreach (var lookup in lookups)
        {
            sum += Scan(lookup)?.Id ?? 0;
        }

        return sum;
    }

    private IpRule? Scan(Lookup lookup)
    {
        IpRule? best = null;
        foreach (var rule in _rules)
        {
            if (!rule.Network.Contains(lookup.Source) || !rule.AppliesToProfile("default")
                || !lookup.Number.StartsWith(rule.Prefix, StringComparison.Ordinal))
            {
                continue;
            }

            if (best is null || IpRule.CompareByPrecedence(rule, best) < 0)
            {
                best = rule;
            }
        }

        return best;
    }
}
