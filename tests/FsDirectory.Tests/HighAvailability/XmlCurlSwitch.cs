using System.Diagnostics;
using System.Net;
using System.Xml.Linq;
using FsDirectory.Tests.EventSocket;
using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.HighAvailability;

/// <summary>
/// A switch's mod_xml_curl as far as these tests need it: a new connection per fetch, the bindings tried in
/// order with the binding's timeout (2 s, as shipped), the next one asked on a timeout, a non-200 or
/// "not found", and the static XML (null here) when none answers.
/// </summary>
public sealed class XmlCurlSwitch : IDisposable
{
    public static readonly TimeSpan BindingTimeout = TimeSpan.FromSeconds(2);

    private readonly List<HttpClient> _bindings;

    public XmlCurlSwitch(params Uri[] bindings) =>
        _bindings = [.. bindings.Select(static b => new HttpClient { BaseAddress = b, Timeout = BindingTimeout })];

    /// <summary>The first real answer, or null for the static XML; <c>Failed</c> counts bindings that timed out or did not answer 200.</summary>
    public async Task<(XDocument? Answer, int Failed)> FetchAsync(FreeSwitchForm form)
    {
        var failed = 0;
        foreach (var binding in _bindings)
        {
            try
            {
                using var request = FreeSwitchClient.Request(form);
                request.Headers.ConnectionClose = true;
                using var response = await binding.SendAsync(request);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failed++;
                    continue;
                }

                var document = XDocument.Parse(await response.Content.ReadAsStringAsync());
                if (!IsNotFound(document))
                {
                    return (document, failed);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Xml.XmlException)
            {
                failed++;
            }
        }

        return (null, failed);
    }

    /// <summary>
    /// One IP-authenticated call as the switch fetches it: the call's own context (transferred), then the
    /// routing context the transfer names, which FsDirectory answers "not found" on purpose so the static
    /// dialplan routes it; so that second fetch visits every binding.
    /// </summary>
    public async Task<CallOutcome> CallAsync()
    {
        var (direct, failedDirect) = await FetchAsync(Direct);
        var transferred = direct is not null && Actions(direct).Any(static a => a.Application == "transfer" && a.Data == "12066418000 XML default");
        var (routing, failedRouting) = await FetchAsync(Routing);
        return new CallOutcome(transferred, routing is null, failedDirect + failedRouting);
    }

    public void Dispose()
    {
        foreach (var binding in _bindings)
        {
            binding.Dispose();
        }
    }

    // The real capture from an ACL-authenticated trunk, from a seeded rule's address (prefix 12345678, context default).
    private static readonly FreeSwitchForm Direct = EventSocketHarness.CallFrom("203.0.113.10", "12345678*12066418000");

    private static readonly FreeSwitchForm Routing = EventSocketHarness.CallFrom("203.0.113.10", "12066418000")
        .With("Caller-Context", "default").With("Hunt-Context", "default").With("variable_fsdir_auth", "ip");
}

/// <summary>
/// What the switch made of a call: transferred by the first fetch, routed by the static dialplan after the
/// second, and how many binding fetches failed on the way (timed out or not 200).
/// </summary>
public sealed record CallOutcome(bool Transferred, bool RoutedStatically, int FailedFetches)
{
    public bool Routed => Transferred && RoutedStatically;
}

/// <summary>One call: when it started (on the run's clock), how long both fetches took, and its outcome.</summary>
public sealed record CallSample(TimeSpan Start, TimeSpan Took, CallOutcome Outcome);

/// <summary>Calls at a steady rate, each started on time whatever the earlier ones are doing, as calls arrive at a switch.</summary>
public static class SteadyCalls
{
    public static async Task<List<CallSample>> RunAsync(XmlCurlSwitch freeSwitch, Stopwatch clock, int callsPerSecond, TimeSpan until)
    {
        var calls = new List<Task<CallSample>>();
        var interval = TimeSpan.FromSeconds(1.0 / callsPerSecond);
        for (var next = clock.Elapsed; next < until; next += interval)
        {
            var wait = next - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            calls.Add(Task.Run(async () =>
            {
                var started = clock.Elapsed;
                var outcome = await freeSwitch.CallAsync();
                return new CallSample(started, clock.Elapsed - started, outcome);
            }));
        }

        return [.. await Task.WhenAll(calls)];
    }

    public static double MedianMilliseconds(this IEnumerable<CallSample> samples)
    {
        var sorted = samples.Select(static s => s.Took.TotalMilliseconds).Order().ToArray();
        Assert.NotEmpty(sorted);
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public static double PercentileMilliseconds(this IEnumerable<CallSample> samples, double fraction)
    {
        var sorted = samples.Select(static s => s.Took.TotalMilliseconds).Order().ToArray();
        Assert.NotEmpty(sorted);
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(fraction * sorted.Length) - 1)];
    }

    public static double MaxMilliseconds(this IEnumerable<CallSample> samples) => samples.Max(static s => s.Took.TotalMilliseconds);

    public static IEnumerable<CallSample> Between(this IEnumerable<CallSample> samples, TimeSpan from, TimeSpan to) =>
        samples.Where(s => s.Start >= from && s.Start < to);
}
