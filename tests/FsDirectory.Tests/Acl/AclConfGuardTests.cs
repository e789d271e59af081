using System.Net.Http.Json;
using System.Net;
using System.Xml.Linq;
using FsDirectory.Acl;
using FsDirectory.FreeSwitch;
using FsDirectory.Status;
using FsDirectory.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace FsDirectory.Tests.Acl;

/// <summary>
/// The size guard (<c>Acl:ResponseMaxBytes</c>, mod_xml_curl's response-max-bytes) and the node ceiling
/// (<c>Acl:MaxNodes</c>) on snapshots built in memory: exactly at each limit, and one over.
/// </summary>
public sealed class AclConfGuardTests
{
    private static Snapshot SnapshotWith(int rules, long version = 1) =>
        new SnapshotBuilder(new FixedOptions<FreeSwitchOptions>(new FreeSwitchOptions()), TimeProvider.System).Build(new SnapshotData
        {
            ChangeToken = "test",
            Accounts = [new AccountRow { Id = 1, Number = "1000", Status = 0 }],
            // Every other address, so that no two aggregate: one node each.
            IpRules = [.. Enumerable.Range(1, rules).Select(static id => new IpMapRow
            {
                Id = id, Name = $"r{id}", Ip = $"10.1.{id * 2 / 256}.{id * 2 % 256}", AccountId = 1, SipProfileId = 0, Prefix = string.Empty, Context = "default", Status = 0,
            })],
            Devices = [],
            Profiles = [new SipProfileRow { Id = 1, Name = "A", ProfileData = "{}", Status = 0 }],
            Gateways = [],
            DefaultSipProfileSetting = null,
        }, version);

    private static (AclConfAnswers Answers, AclOptions Options) Answers(long maxBytes = AclOptions.DefaultResponseMaxBytes, int maxNodes = AclOptions.DefaultMaxNodes)
    {
        var options = new AclOptions { ResponseMaxBytes = maxBytes, MaxNodes = maxNodes };
        return (new AclConfAnswers(new FixedOptions<AclOptions>(options), NullLogger<AclConfAnswers>.Instance, TimeProvider.System), options);
    }

    private static long LengthOf(Snapshot snapshot) => Answers().Answers.Answer(snapshot).Length;

    [Fact]
    public void An_acl_conf_of_exactly_response_max_bytes_is_served_as_built()
    {
        var snapshot = SnapshotWith(50);
        var (answers, _) = Answers(maxBytes: LengthOf(snapshot));

        var answer = answers.Answer(snapshot);

        Assert.Equal(200, answer.StatusCode);
        Assert.Equal(LengthOf(snapshot), answer.Length);
        Assert.Equal(AclConfGuard.ServingBuilt, answers.Guard!.Serving);
        Assert.False(answers.Guard.OverSize);
        Assert.Equal(answer.Length, answers.Guard.Bytes);
    }

    [Fact]
    public void One_byte_over_response_max_bytes_is_refused_with_503_when_nothing_smaller_fit_since_start()
    {
        var snapshot = SnapshotWith(50);
        var (answers, _) = Answers(maxBytes: LengthOf(snapshot) - 1);

        var answer = answers.Answer(snapshot);

        Assert.Equal(503, answer.StatusCode);
        Assert.True(answers.Guard!.OverSize);
        Assert.Equal(AclConfGuard.ServingRefused, answers.Guard.Serving);
        Assert.Null(answers.Guard.ServedVersion);
    }

    [Fact]
    public void One_byte_over_response_max_bytes_serves_the_newest_acl_conf_that_fit()
    {
        var small = SnapshotWith(40, version: 1);
        var smaller = SnapshotWith(45, version: 2);
        var large = SnapshotWith(50, version: 3);
        var (answers, _) = Answers(maxBytes: LengthOf(large) - 1);
        var fitted = answers.Answer(smaller).ToString();
        answers.Answer(small);

        var answer = answers.Answer(large);

        Assert.Equal(200, answer.StatusCode);
        Assert.Equal(fitted, answer.ToString());
        Assert.Equal((AclConfGuard.ServingLastGood, 2L), (answers.Guard!.Serving, answers.Guard.ServedVersion));
        Assert.True(answers.Guard.OverSize);
        Assert.Equal(LengthOf(large), answers.Guard.Bytes);
    }

    [Fact]
    public void Once_the_acl_conf_fits_again_it_is_served_as_built()
    {
        var large = SnapshotWith(50, version: 1);
        var small = SnapshotWith(40, version: 2);
        var (answers, options) = Answers(maxBytes: LengthOf(large) - 1);
        Assert.Equal(503, answers.Answer(large).StatusCode);

        Assert.Equal(LengthOf(small), answers.Answer(small).Length);
        Assert.False(answers.Guard!.OverSize);

        // A raised limit takes effect at the next answer.
        options.ResponseMaxBytes = LengthOf(large);
        Assert.Equal(LengthOf(large), answers.Answer(SnapshotWith(50, version: 3)).Length);
    }

    [Fact]
    public void Exactly_max_nodes_is_within_the_ceiling_and_one_more_is_over_it_but_still_served()
    {
        var snapshot = SnapshotWith(50);
        var nodes = XDocument.Parse(Answers().Answers.Answer(snapshot).ToString()).Descendants("node").Count();
        var (at, _) = Answers(maxNodes: nodes);
        var (under, _) = Answers(maxNodes: nodes - 1);

        var atAnswer = at.Answer(snapshot);
        var underAnswer = under.Answer(snapshot);

        Assert.Equal(nodes, at.Guard!.Nodes);
        Assert.False(at.Guard.OverNodes);
        Assert.True(under.Guard!.OverNodes);
        Assert.Equal(AclConfGuard.ServingBuilt, under.Guard.Serving);
        Assert.Equal(atAnswer.ToString(), underAnswer.ToString());
    }
}

/// <summary>A service whose acl.conf is over the size limit from the start, then fits, then grows past it again.</summary>
public sealed class AclConfGuardFixture : DemoServerFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Acl:ResponseMaxBytes"] = "2048",
        ["Acl:MaxNodes"] = "5",
    };

    protected override Task SeedAsync(TestDatabase database) => database.ExecuteAsync(
        "INSERT INTO ip_map (id, name, ip, accountid, sip_profile_id, prefix, context, status) VALUES " +
        string.Join(", ", Enumerable.Range(0, 200).Select(static i => $"({1000 + i}, 'bulk {i}', '10.9.{i}.1', 2, 0, '', 'default', 0)")));
}

public sealed class AclConfGuardServiceTests(AclConfGuardFixture fixture) : IClassFixture<AclConfGuardFixture>
{
    private readonly FsDirectoryServer _server = fixture.Server;

    private Task<StatusResponse?> StatusAsync() => _server.Client.GetFromJsonAsync<StatusResponse>("/api/status");

    [Fact]
    public async Task An_oversized_acl_conf_is_refused_loudly_then_served_when_it_fits_and_replaced_by_the_last_good_one_when_it_grows_again()
    {
        // Over from the start: nothing fit yet, so 503 (the switch asks its next binding).
        using (var refused = await _server.PostAsync(FreeSwitchForm.Load("configuration-acl.conf")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        await _server.PostAsync(FreeSwitchForm.Load("configuration-acl.conf"));
        var status = (await StatusAsync())!.AclConf!;
        Assert.True(status.OverSize);
        Assert.True(status.OverNodes);
        Assert.Equal(AclConfGuard.ServingRefused, status.Serving);
        var metrics = await MetricsText.ScrapeAsync(_server.Client);
        Assert.Equal(1, MetricsText.Value(metrics, "fsdir_acl_conf_over_size"));
        Assert.Equal(1, MetricsText.Value(metrics, "fsdir_acl_conf_over_nodes"));
        Assert.Equal(status.Bytes, MetricsText.Value(metrics, "fsdir_acl_conf_bytes"));
        // Logged once for the state, not once per fetch.
        Assert.Single(_server.Logs.All.Split('\n'), l => l.Contains("over Acl:ResponseMaxBytes 2048", StringComparison.Ordinal));

        // Fits: served as built.
        await fixture.Database.ExecuteAsync("DELETE FROM ip_map WHERE id >= 1000");
        await _server.ReloadAsync();
        var fitting = await _server.FetchAsync(FreeSwitchForm.Load("configuration-acl.conf"));
        Assert.DoesNotContain(FreeSwitchXml.AclLists(fitting).Values.SelectMany(static l => l), static c => c.StartsWith("10.9.", StringComparison.Ordinal));
        Assert.Equal((false, AclConfGuard.ServingBuilt), ((await StatusAsync())!.AclConf!.OverSize, (await StatusAsync())!.AclConf!.Serving));
        Assert.Equal(0, MetricsText.Value(await MetricsText.ScrapeAsync(_server.Client), "fsdir_acl_conf_over_size"));

        // Grows past the limit again: the last one that fit is served, and the status says which.
        await fixture.Database.ExecuteAsync(
            "INSERT INTO ip_map (id, name, ip, accountid, sip_profile_id, prefix, context, status) VALUES " +
            string.Join(", ", Enumerable.Range(0, 200).Select(static i => $"({2000 + i}, 'again {i}', '10.8.{i}.1', 2, 0, '', 'default', 0)")));
        await _server.ReloadAsync();
        var stale = await _server.FetchAsync(FreeSwitchForm.Load("configuration-acl.conf"));
        Assert.Equal(fitting.ToString(), stale.ToString());
        var again = (await StatusAsync())!.AclConf!;
        Assert.Equal((true, AclConfGuard.ServingLastGood), (again.OverSize, again.Serving));
        Assert.True(again.ServedVersion < again.SnapshotVersion);
        Assert.Contains("serving the acl.conf of snapshot", _server.Logs.All, StringComparison.Ordinal);
    }
}
