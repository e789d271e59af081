using System.Diagnostics;
using FsDirectory.Tests.EventSocket;
using FsDirectory.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FsDirectory.Tests.HighAvailability;

/// <summary>
/// Two real instances behind Debian's HAProxy running the shipped freeswitch-conf/haproxy/fsdirectory.cfg, and
/// IP-authenticated calls at a steady rate through it, as a switch with its single binding makes them. One
/// instance hangs (SIGSTOP) for 10 s: no call may fail, and once the checks have ejected it (the detection
/// window, 2 s) calls may take no more than 100 ms longer than before. Medians, on a shared 2-core machine:
/// robust against a stray slow call, while a call that met the hung instance costs at least a per-try timeout
/// (400 ms) and one without the balancer a binding timeout (2 s).
/// </summary>
public sealed class LoadBalancerTests(ITestOutputHelper output)
{
    private const int CallsPerSecond = 20;
    private static readonly TimeSpan Baseline = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DetectionWindow = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan AfterResume = TimeSpan.FromSeconds(3);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Calls_through_the_local_load_balancer_neither_fail_nor_slow_down_while_an_instance_hangs(int hungIndex)
    {
        await using var database = await TestDatabase.CreateAsync(seed: true);
        await using var first = await FsDirectoryProcess.StartAsync(database.ConnectionString, new Dictionary<string, string?>());
        await using var second = await FsDirectoryProcess.StartAsync(database.ConnectionString, new Dictionary<string, string?>());
        await using var haproxy = await HaProxy.StartAsync(first.Address, second.Address);
        var hung = hungIndex == 0 ? first : second;
        var hungServer = $"fsdirectory-{hungIndex + 1}";

        // The same-run reference: one binding straight to an instance, nothing hung.
        using var direct = new XmlCurlSwitch(first.Address);
        var reference = await SteadyCalls.RunAsync(direct, Stopwatch.StartNew(), CallsPerSecond, Baseline);

        using var balanced = new XmlCurlSwitch(haproxy.Address);
        var clock = Stopwatch.StartNew();
        var load = SteadyCalls.RunAsync(balanced, clock, CallsPerSecond, Baseline + Hang + AfterResume);
        await Task.Delay(Baseline);
        var pausedAt = clock.Elapsed;
        await hung.PauseAsync();
        var ejectedAfter = await Eventually.TrueAsync(async () => (await haproxy.ServerStatesAsync())[hungServer].StartsWith("DOWN", StringComparison.Ordinal),
            TimeSpan.FromSeconds(5), $"haproxy marks {hungServer} down");

        // It is hung indeed: its own readiness does not answer.
        using (var budget = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => hung.Client.GetAsync("/health/ready", budget.Token));
        }

        // Out for the rest of the hang: HAProxy sends nothing to a server that is down.
        var states = new HashSet<string>(StringComparer.Ordinal);
        while (clock.Elapsed < pausedAt + Hang)
        {
            states.Add((await haproxy.ServerStatesAsync())[hungServer]);
            await Task.Delay(100);
        }

        var resumedAt = clock.Elapsed;
        await hung.ResumeAsync();
        var backAfter = await Eventually.TrueAsync(async () => (await haproxy.ServerStatesAsync())[hungServer] == "UP",
            AfterResume, $"{hungServer} back in service");
        var samples = await load;

        var before = samples.Between(TimeSpan.FromSeconds(1), pausedAt).ToList();
        var window = samples.Between(pausedAt, pausedAt + DetectionWindow).ToList();
        var after = samples.Between(pausedAt + DetectionWindow, resumedAt).ToList();
        output.WriteLine($"hung {hungServer}; {samples.Count} calls at {CallsPerSecond}/s; machine: {File.ReadAllText("/proc/loadavg").Trim()}");
        output.WriteLine($"direct, one binding, no hang: median {reference.MedianMilliseconds():F1} ms");
        output.WriteLine($"through haproxy, before the hang: median {before.MedianMilliseconds():F1} ms, p95 {before.PercentileMilliseconds(0.95):F1} ms");
        output.WriteLine($"ejected {ejectedAfter.TotalSeconds:F2} s after SIGSTOP; back {backAfter.TotalSeconds:F2} s after SIGCONT");
        output.WriteLine($"first 2 s of the hang: median {window.MedianMilliseconds():F1} ms, max {window.MaxMilliseconds():F1} ms, {window.Count(static s => s.Took > TimeSpan.FromMilliseconds(300))} of {window.Count} calls over 300 ms");
        output.WriteLine($"rest of the hang: median {after.MedianMilliseconds():F1} ms, p95 {after.PercentileMilliseconds(0.95):F1} ms, max {after.MaxMilliseconds():F1} ms");

        var failed = samples.Where(static s => !s.Outcome.Routed || s.Outcome.FailedFetches > 0).ToList();
        Assert.True(failed.Count == 0, $"{failed.Count} call(s) failed, e.g. {failed.FirstOrDefault()}\n{haproxy.Output}");
        Assert.True(ejectedAfter < DetectionWindow, $"ejected after {ejectedAfter.TotalSeconds:F2} s");
        Assert.All(states, static state => Assert.StartsWith("DOWN", state));
        Assert.True(after.MedianMilliseconds() - before.MedianMilliseconds() < 100,
            $"median {after.MedianMilliseconds():F1} ms after the window against {before.MedianMilliseconds():F1} ms before the hang");
        // Not one call waited out a binding timeout, as every call did without the balancer.
        Assert.True(after.MaxMilliseconds() < XmlCurlSwitch.BindingTimeout.TotalMilliseconds, $"max {after.MaxMilliseconds():F1} ms after the window");
    }

    [Fact]
    public async Task Configuration_fetches_go_to_the_backend_with_the_longer_timeout_and_calls_do_not()
    {
        await using var database = await TestDatabase.CreateAsync(seed: true);
        await using var instance = await FsDirectoryProcess.StartAsync(database.ConnectionString, new Dictionary<string, string?>());
        await using var haproxy = await HaProxy.StartAsync(instance.Address);
        using var client = new HttpClient { BaseAddress = haproxy.Address };

        var acl = await client.FetchAsync(FreeSwitchForm.Load("configuration-acl.conf"));
        var call = await client.FetchAsync(EventSocketHarness.CallFrom("203.0.113.10", "12345678*12066418000"));

        Assert.Equal("acl.conf", acl.Descendants("configuration").Single().Attribute("name")?.Value);
        Assert.Contains(FreeSwitchXml.Actions(call), static a => a.Application == "transfer");
        Assert.Equal(1, await haproxy.SessionsAsync("fsdirectory-configuration"));
        Assert.Equal(1, await haproxy.SessionsAsync("fsdirectory"));
    }

    /// <summary>
    /// What the load balancer replaces: one binding per instance. The routing-context fetch is answered
    /// "not found" on purpose, so mod_xml_curl asks every binding, and a hung one costs each call its whole
    /// timeout (twice when it is the first binding, which the call's own fetch meets too), for as long as it hangs.
    /// </summary>
    [Theory]
    [InlineData(0, 2)]
    [InlineData(1, 1)]
    public async Task Without_the_load_balancer_a_hung_instance_costs_every_call_a_binding_timeout_per_fetch_that_meets_it(int hungIndex, int timeoutsPerCall)
    {
        await using var database = await TestDatabase.CreateAsync(seed: true);
        await using var first = await FsDirectoryProcess.StartAsync(database.ConnectionString, new Dictionary<string, string?>());
        await using var second = await FsDirectoryProcess.StartAsync(database.ConnectionString, new Dictionary<string, string?>());
        var hung = hungIndex == 0 ? first : second;
        using var bindings = new XmlCurlSwitch(first.Address, second.Address);
        var clock = Stopwatch.StartNew();
        var hangFor = TimeSpan.FromSeconds(8);
        var load = SteadyCalls.RunAsync(bindings, clock, CallsPerSecond, Baseline + hangFor);
        await Task.Delay(Baseline);
        var pausedAt = clock.Elapsed;
        await hung.PauseAsync();
        await Task.Delay(hangFor);
        await hung.ResumeAsync();
        var samples = await load;

        var before = samples.Between(TimeSpan.FromSeconds(1), pausedAt).ToList();
        // Calls whose every fetch to the hung binding waited out the timeout before SIGCONT.
        var during = samples.Between(pausedAt + TimeSpan.FromSeconds(0.5), pausedAt + hangFor - (timeoutsPerCall * XmlCurlSwitch.BindingTimeout)).ToList();
        var added = during.MedianMilliseconds() - before.MedianMilliseconds();
        output.WriteLine($"two bindings, binding {hungIndex + 1} hung; machine: {File.ReadAllText("/proc/loadavg").Trim()}");
        output.WriteLine($"before: median {before.MedianMilliseconds():F1} ms; during: median {during.MedianMilliseconds():F1} ms (+{added:F0} ms), {during.Count} calls");

        // Still routed (the other binding answers, the static dialplan routes), but slowly.
        Assert.All(samples, static s => Assert.True(s.Outcome.Routed, s.ToString()));
        Assert.InRange(added, (timeoutsPerCall * XmlCurlSwitch.BindingTimeout.TotalMilliseconds) - 100, (timeoutsPerCall * XmlCurlSwitch.BindingTimeout.TotalMilliseconds) + 500);
    }
}
