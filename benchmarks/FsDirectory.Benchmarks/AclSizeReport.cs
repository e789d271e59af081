using System.Diagnostics;
using System.Globalization;
using FsDirectory.Acl;
using FsDirectory.ChangeFeed;

namespace FsDirectory.Benchmarks;

/// <summary>
/// `acl-size [RULES...]`: acl.conf for the Mixed shape (one profile): its bytes, its <c>&lt;node&gt;</c>
/// elements and all its elements (what FreeSWITCH's quadratic parse pays for), the networks the switch
/// ends up with, the live memory the built document keeps, and the median of five builds and digests
/// of a fresh snapshot. Written to run unchanged on an older tree too, for before/after comparisons.
/// </summary>
public static class AclSizeReport
{
    public static int Run(string[] args)
    {
        var sizes = args.Length > 0 ? args.Select(static a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray() : [10_000, 100_000, 1_000_000];
        Console.WriteLine("| rules | bytes | <node> elements | elements | networks | kept (MB) | build ms | digest ms |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var size in sizes)
        {
            var snapshot = Fixtures.Snapshot(size, devices: 0);
            var acl = new AclConfAnswers(new FixedOptions<AclOptions>(new AclOptions { ResponseMaxBytes = long.MaxValue / 2 }));
            var before = Live();
            var text = acl.Answer(snapshot).Body;
            var kept = Live() - before;
            var (nodes, elements, networks) = Count(text.Span);
            var builds = new List<double>();
            var digests = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                var fresh = snapshot.Copy(snapshot.FeedPosition, keepAnswers: false);
                var watch = Stopwatch.StartNew();
                var answer = acl.Answer(fresh);
                builds.Add(watch.Elapsed.TotalMilliseconds);
                watch.Restart();
                answer.Sha256();
                digests.Add(watch.Elapsed.TotalMilliseconds);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {size:N0} | {text.Length:N0} | {nodes:N0} | {elements:N0} | {networks:N0} | {kept / 1e6:F1} | {Median(builds):F0} | {Median(digests):F0} |"));
            GC.KeepAlive(snapshot);
        }

        return 0;
    }

    private static (int Nodes, int Elements, int Networks) Count(ReadOnlySpan<byte> text)
    {
        int nodes = 0, elements = 0, networks = 0;
        for (var i = 0; i + 1 < text.Length; i++)
        {
            if (text[i] == '<' && text[i + 1] is not ((byte)'/' or (byte)'?'))
            {
                elements++;
                if (text[(i + 1)..].StartsWith("node "u8))
                {
                    nodes++;
                    networks++;
                }
            }
            else if (text[i] == ',' )
            {
                networks++;
            }
        }

        return (nodes, elements, networks);
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static long Live()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
