using FsDirectory.Metrics;
using FsDirectory.Tests.EventSocket;
using FsDirectory.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;
using static FsDirectory.Tests.Limits.LimitsFixture;

namespace FsDirectory.Tests.Limits;

/// <summary>The dialplan answer of an IP-authenticated call with Limits:Enabled, posted as the real capture.</summary>
public sealed class CallLimitsAnswerTests(LimitsFixture fixture) : IClassFixture<LimitsFixture>
{
    private const string IgnoreTransfer = "limit_ignore_transfer=true";

    /// <summary>Everything from limit_ignore_transfer on: the limits and the transfer, in order.</summary>
    private static IReadOnlyList<(string Application, string Data)> Tail(System.Xml.Linq.XDocument document) =>
        [.. Actions(document).SkipWhile(a => a != ("set", IgnoreTransfer))];

    [Fact]
    public async Task An_account_without_limits_gets_no_limit_and_no_limit_ignore_transfer()
    {
        var actions = Actions(await fixture.Server.FetchAsync(Call(NoLimits)));

        Assert.DoesNotContain(actions, a => a.Application == "limit" || a.Data == IgnoreTransfer);
        Assert.Equal(("transfer", "12066418000 XML default"), actions[^1]);
    }

    [Fact]
    public async Task An_account_limit_alone_is_one_hash_limit_with_the_hangup_cause_before_the_transfer()
    {
        Assert.Equal(
            [("set", IgnoreTransfer), ("limit", "hash fsdir_channels account_41 5 !SWITCH_CONGESTION"), ("transfer", "12066418000 XML default")],
            Tail(await fixture.Server.FetchAsync(Call(AccountOnly))));
    }

    [Fact]
    public async Task A_reseller_limit_alone_limits_the_reseller_account_by_its_id()
    {
        Assert.Equal(
            [
                ("set", IgnoreTransfer), ("limit", "hash fsdir_channels account_50 100 !SWITCH_CONGESTION"),
                ("limit", "hash fsdir_cps account_50 20/1 !SWITCH_CONGESTION"), ("transfer", "12066418000 XML default"),
            ],
            Tail(await fixture.Server.FetchAsync(Call(ResellerOnly))));
    }

    [Fact]
    public async Task Account_and_reseller_limits_come_account_first_channels_before_rate()
    {
        Assert.Equal(
            [
                ("set", IgnoreTransfer),
                ("limit", "hash fsdir_channels account_43 3 !SWITCH_CONGESTION"), ("limit", "hash fsdir_cps account_43 2/1 !SWITCH_CONGESTION"),
                ("limit", "hash fsdir_channels account_50 100 !SWITCH_CONGESTION"), ("limit", "hash fsdir_cps account_50 20/1 !SWITCH_CONGESTION"),
                ("transfer", "12066418000 XML default"),
            ],
            Tail(await fixture.Server.FetchAsync(Call(Both))));
    }

    [Fact]
    public async Task A_cps_limit_alone_is_a_rate_of_calls_per_one_second()
    {
        Assert.Equal(
            [("set", IgnoreTransfer), ("limit", "hash fsdir_cps account_44 7/1 !SWITCH_CONGESTION"), ("transfer", "12066418000 XML default")],
            Tail(await fixture.Server.FetchAsync(Call(CpsOnly))));
    }

    [Fact]
    public async Task Limit_ignore_transfer_is_set_before_the_first_limit_and_the_transfer_comes_last()
    {
        var actions = Actions(await fixture.Server.FetchAsync(Call(Both)));

        var ignore = actions.ToList().IndexOf(("set", IgnoreTransfer));
        var firstLimit = actions.ToList().FindIndex(a => a.Application == "limit");
        Assert.InRange(ignore, 0, firstLimit - 1);
        Assert.Equal("transfer", actions[^1].Application);
        Assert.DoesNotContain(actions.Skip(firstLimit), a => a.Application == "set");
    }

    [Fact]
    public async Task Answers_carrying_limits_are_counted_in_the_metrics()
    {
        var counter = fixture.Server.Services.GetRequiredService<FsDirectoryMetrics>().LimitedDialplanAnswers;
        var before = counter.Value;

        await fixture.Server.FetchAsync(Call(Both));
        await fixture.Server.FetchAsync(Call(NoLimits));

        Assert.Equal(before + 1, counter.Value);
        Assert.Contains("fsdir_dialplan_limited_answers_total", await fixture.Server.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_db_backend_and_another_hangup_cause_are_settings_and_the_rate_stays_on_hash()
    {
        await using var server = await FsDirectoryServer.StartAsync(fixture.Database.ConnectionString, new Dictionary<string, string?>
        {
            ["Limits:Enabled"] = "true", ["Limits:Backend"] = "db", ["Limits:HangupCause"] = "CALL_REJECTED",
        });

        Assert.Equal(
            [
                ("set", IgnoreTransfer),
                ("limit", "db fsdir_channels account_43 3 !CALL_REJECTED"), ("limit", "hash fsdir_cps account_43 2/1 !CALL_REJECTED"),
                ("limit", "db fsdir_channels account_50 100 !CALL_REJECTED"), ("limit", "hash fsdir_cps account_50 20/1 !CALL_REJECTED"),
                ("transfer", "12066418000 XML default"),
            ],
            Tail(await server.FetchAsync(Call(Both))));
    }

    [Fact]
    public async Task With_limits_disabled_the_answer_is_as_before()
    {
        await using var server = await FsDirectoryServer.StartAsync(fixture.Database.ConnectionString);

        var actions = Actions(await server.FetchAsync(Call(Both)));

        Assert.DoesNotContain(actions, a => a.Application == "limit" || a.Data == IgnoreTransfer);
        Assert.Equal(("transfer", "12066418000 XML default"), actions[^1]);
    }

    [Fact]
    public async Task A_limit_edited_in_the_database_applies_to_the_next_call_without_a_rebuild()
    {
        var metrics = fixture.Server.Services.GetRequiredService<FsDirectoryMetrics>();
        var rebuilds = Enum.GetValues<FsDirectory.Snapshots.RebuildReason>().Sum(r => metrics.Rebuilds.WithLabels(FsDirectoryMetrics.Label(r)).Value);
        try
        {
            await fixture.Database.ExecuteAsync("UPDATE accounts SET maxchannels = 9 WHERE id = 41");

            await Eventually.TrueAsync(async () => Tail(await fixture.Server.FetchAsync(Call(AccountOnly))).Contains(("limit", "hash fsdir_channels account_41 9 !SWITCH_CONGESTION")),
                TimeSpan.FromSeconds(10), "the new limit answers the next call");
            Assert.Equal(rebuilds, Enum.GetValues<FsDirectory.Snapshots.RebuildReason>().Sum(r => metrics.Rebuilds.WithLabels(FsDirectoryMetrics.Label(r)).Value));
        }
        finally
        {
            await fixture.Database.ExecuteAsync("UPDATE accounts SET maxchannels = 5 WHERE id = 41");
            await Eventually.TrueAsync(async () => Tail(await fixture.Server.FetchAsync(Call(AccountOnly))).Contains(("limit", "hash fsdir_channels account_41 5 !SWITCH_CONGESTION")),
                TimeSpan.FromSeconds(10), "the limit restored");
        }
    }
}
