using FsDirectory.FreeSwitch;
using FsDirectory.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace FsDirectory.Tests.FreeSwitch;

public sealed class LogThrottleTests
{
    private sealed class Options(int perSecond) : IOptionsMonitor<FreeSwitchOptions>
    {
        public FreeSwitchOptions CurrentValue { get; } = new() { RequestLogLinesPerSecond = perSecond };

        public FreeSwitchOptions Get(string? name) => CurrentValue;

        public IDisposable? OnChange(Action<FreeSwitchOptions, string?> listener) => null;
    }

    [Fact]
    public void At_most_the_limit_is_written_each_second_and_the_next_line_counts_what_was_left_out()
    {
        var clock = new ManualClock { Ticks = 5_000 };
        var throttle = new LogThrottle(new Options(3), clock);

        var written = Enumerable.Range(0, 10).Count(i => throttle.TryWrite(out _));
        Assert.Equal(3, written);

        clock.Ticks = 5_999;
        Assert.False(throttle.TryWrite(out _));

        clock.Ticks = 6_000;
        Assert.True(throttle.TryWrite(out var suppressed));
        Assert.Equal(8, suppressed);
        Assert.True(throttle.TryWrite(out suppressed));
        Assert.Equal(0, suppressed);
    }

    [Fact]
    public void A_limit_of_zero_writes_every_line()
    {
        var throttle = new LogThrottle(new Options(0), new ManualClock());

        Assert.All(Enumerable.Range(0, 1_000), i => Assert.True(throttle.TryWrite(out _)));
    }

    [Fact]
    public async Task A_burst_of_unknown_devices_writes_only_a_few_lines_and_every_request_is_still_answered()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var server = await FsDirectoryServer.StartAsync(database.ConnectionString,
            new Dictionary<string, string?> { ["FreeSwitch:RequestLogLinesPerSecond"] = "3" });

        for (var i = 0; i < 20; i++)
        {
            var document = await server.FetchAsync(FreeSwitchForm.Load("directory-sip_auth-register").With("user", $"scanner-{i}"));
            Assert.True(FreeSwitchXml.IsNotFound(document));
        }

        // 20 requests take well under a second here; at most one second boundary can fall inside.
        var lines = server.Logs.Lines.Count(l => l.Contains("no usable device scanner-", StringComparison.Ordinal));
        Assert.InRange(lines, 3, 6);
    }
}
