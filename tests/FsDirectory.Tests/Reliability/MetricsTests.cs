using System.Globalization;
using System.Net;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Reliability;

public sealed class MetricsFixture : DemoServerFixture;

public sealed class MetricsTests(MetricsFixture fixture) : IClassFixture<MetricsFixture>
{
    private readonly FsDirectoryServer _server = fixture.Server;

    [Fact]
    public async Task Answered_directory_fetches_move_their_counter_and_histogram()
    {
        var before = await ScrapeAsync();

        for (var i = 0; i < 3; i++)
        {
            await _server.FetchAsync(FreeSwitchForm.Load("directory-sip_auth-register"));
        }

        var after = await ScrapeAsync();
        Assert.Equal(3, Value(after, "fsdir_freeswitch_requests_total", "section=\"directory\"", "outcome=\"answered\"")
            - Value(before, "fsdir_freeswitch_requests_total", "section=\"directory\"", "outcome=\"answered\""));
        Assert.Equal(3, Value(after, "fsdir_freeswitch_request_duration_seconds_count", "section=\"directory\"")
            - Value(before, "fsdir_freeswitch_request_duration_seconds_count", "section=\"directory\""));
    }

    [Fact]
    public async Task Not_found_rejected_and_refused_fetches_are_counted_by_outcome()
    {
        var before = await ScrapeAsync();

        await _server.FetchAsync(FreeSwitchForm.Load("configuration-event_socket.conf"));
        await _server.FetchAsync(FreeSwitchForm.Load("dialplan-acl-authed-tech-prefix").With("Hunt-Network-Addr", "198.18.7.7"));
        using (var tooMany = new StringContent(string.Concat(Enumerable.Range(0, 5000).Select(i => $"v{i}=1&")) + "section=dialplan",
            System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"))
        {
            using var refused = await _server.Client.PostAsync("/freeswitch", tooMany);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        }

        await _server.FetchAsync(FreeSwitchForm.Load("configuration-acl.conf").With("section", "<evil section>"));

        var after = await ScrapeAsync();
        double Delta(params string[] labels) =>
            Value(after, "fsdir_freeswitch_requests_total", labels) - Value(before, "fsdir_freeswitch_requests_total", labels);
        Assert.Equal(1, Delta("section=\"configuration\"", "outcome=\"not_found\""));
        Assert.Equal(1, Delta("section=\"dialplan\"", "outcome=\"rejected\""));
        Assert.Equal(1, Delta("section=\"none\"", "outcome=\"refused\""));
        Assert.Equal(1, Delta("section=\"other\"", "outcome=\"not_found\""));
        Assert.DoesNotContain("evil", after, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Snapshot_age_and_size_are_exposed()
    {
        var text = await ScrapeAsync();

        Assert.Equal(4, Value(text, "fsdir_snapshot_rows", "kind=\"devices\"")); // five seeded, one inactive
        Assert.True(Value(text, "fsdir_snapshot_rows", "kind=\"ip_rules\"") >= 5);
        Assert.InRange(Value(text, "fsdir_snapshot_age_seconds"), 0, 600);
        Assert.True(Value(text, "fsdir_snapshot_version") >= 1);
        Assert.Equal(1, Value(text, "fsdir_database_reachable"));
        Assert.Contains("process_working_set_bytes", text, StringComparison.Ordinal);
    }

    private async Task<string> ScrapeAsync()
    {
        using var response = await _server.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The sample of <paramref name="name"/> whose labels include all of <paramref name="labels"/>; 0 when the series does not exist yet.</summary>
    internal static double Value(string text, string name, params string[] labels)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith('#') || !(line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal)))
            {
                continue;
            }

            if (labels.All(l => line.Contains(l, StringComparison.Ordinal)))
            {
                return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
