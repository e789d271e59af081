using System.Net.Http.Json;
using System.Text.Json;
using FsDirectory.Cli;
using FsDirectory.IpAuth;
using FsDirectory.Limits;
using FsDirectory.Status;
using FsDirectory.Tests.AdminConsole;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Limits;

/// <summary>
/// The roll-out preview (/api/limits, /api/status, fsdir limits) over random accounts, checked against
/// the same question asked in SQL; and explain (/api/ip-auth/resolve, fsdir resolve) showing a call's limits.
/// </summary>
public sealed class LimitsPreviewTests : IAsyncLifetime
{
    private const string OperatorKey = "limits-operator-key-0123456789";
    private const string ResellerKey = "limits-reseller-key-0123456789";
    private const int Reseller = 50;
    private TestDatabase _database = null!;
    private FsDirectoryServer _server = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(seed: true);

        // Fixed seed: a failure can be replayed. Resellers 50-54 (some inactive), customers with every
        // kind of limit, status and reseller (none, NULL, an inactive reseller, one without customers).
        var random = new Random(25);
        int[] channels = [0, 0, 1, 1, 2, 3, 4, 5, 9, 10, 29, 30, 99, 100, 250];
        int[] rates = [0, 0, 0, 1, 2, 4, 5, 10, 30, 100];
        var rows = new List<string>();
        for (var id = 50; id <= 54; id++)
        {
            rows.Add($"({id}, 'r{id}', 0, {(id == 53 ? 1 : 0)}, 0, 1, {channels[random.Next(channels.Length)]}, {rates[random.Next(rates.Length)]})");
        }

        for (var id = 100; id < 500; id++)
        {
            int?[] resellers = [0, null, 50, 50, 51, 52, 53];
            var reseller = resellers[random.Next(resellers.Length)];
            rows.Add($"({id}, 'c{id}', {(reseller is null ? "NULL" : reseller)}, {(random.Next(6) == 0 ? 1 : 0)}, {(random.Next(10) == 0 ? 1 : 0)}, 0, "
                + $"{channels[random.Next(channels.Length)]}, {rates[random.Next(rates.Length)]})");
        }

        await _database.ExecuteAsync("INSERT INTO accounts (id, number, reseller_id, status, deleted, type, maxchannels, cps) VALUES " + string.Join(",\n", rows));
        await _database.ExecuteAsync(
            "INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status) VALUES (500, 'limited', '192.0.2.250', 100, 0, 0, 0, '', 'default', 0)");
        await _database.ExecuteAsync("UPDATE accounts SET reseller_id = 50, status = 0, deleted = 0, maxchannels = 4, cps = 3 WHERE id = 100");
        await _database.ExecuteAsync("UPDATE accounts SET status = 0, deleted = 0, maxchannels = 60, cps = 0 WHERE id = 50");
        _server = await FsDirectoryServer.StartAsync(_database.ConnectionString,
            AdminKeys.Settings((OperatorKey, "ops", null), (ResellerKey, "reseller 50", Reseller)));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _database.DisposeAsync();
    }

    private async Task<T> GetAsync<T>(string path, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { { "X-Api-Key", key } } };
        using var response = await _server.Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<T>())!;
    }

    private const string Active = "status = 0 AND deleted = 0";

    private static string Range(string column) => $"""
        CASE WHEN {column} <= 0 THEN 'unlimited' WHEN {column} = 1 THEN '1' WHEN {column} < 5 THEN '2-4' WHEN {column} < 10 THEN '5-9'
             WHEN {column} < 30 THEN '10-29' WHEN {column} < 100 THEN '30-99' ELSE '100+' END
        """;

    /// <summary>The group as SQL sees it: <paramref name="where"/> picks its accounts (alias a).</summary>
    private async Task AssertGroupAsync(LimitsGroup group, string where)
    {
        var from = $"FROM accounts a WHERE {where}";
        Assert.Equal(await _database.ScalarAsync<long>($"SELECT COUNT(*) {from}"), group.Total);
        Assert.Equal(await _database.ScalarAsync<long>($"SELECT COUNT(*) {from} AND (a.maxchannels > 0 OR a.cps > 0)"), group.Limited);
        foreach (var (column, histogram) in new[] { ("a.maxchannels", group.Channels), ("a.cps", group.Cps) })
        {
            var expected = (await _database.QueryAsync<(string Range, long Count)>(
                $"SELECT {Range(column)} AS r, COUNT(*) {from} GROUP BY r")).ToDictionary(x => x.Range, x => x.Count);
            Assert.Equal(LimitsGroup.Ranges.Length, histogram.Count);
            Assert.All(histogram, bucket => Assert.Equal(expected.GetValueOrDefault(bucket.Range), bucket.Accounts));
            Assert.Equal(expected.Values.Sum(), histogram.Sum(b => b.Accounts));
        }

        Assert.Equal(await _database.QueryAsync<int>($"SELECT a.id {from} AND a.maxchannels > 0 ORDER BY a.maxchannels, a.id LIMIT 10"), group.LowestChannels.Select(a => a.Id));
        Assert.Equal(await _database.QueryAsync<int>($"SELECT a.id {from} AND a.cps > 0 ORDER BY a.cps, a.id LIMIT 10"), group.LowestCps.Select(a => a.Id));
    }

    private const string IsReseller = $"a.{Active} AND EXISTS (SELECT 1 FROM accounts c WHERE c.reseller_id = a.id AND c.{Active})";

    [Fact]
    public async Task The_operator_preview_counts_match_the_database()
    {
        var preview = await GetAsync<LimitsPreview>("/api/limits", OperatorKey);

        Assert.False(preview.Enabled);
        Assert.Equal("hash", preview.Backend);
        Assert.Equal("SWITCH_CONGESTION", preview.HangupCause);
        await AssertGroupAsync(preview.Accounts, $"a.{Active}");
        await AssertGroupAsync(preview.Resellers, IsReseller);
        Assert.True(preview.Accounts.Channels.Single(b => b.Range == "1").Accounts > 0, "the random data has accounts limited to one call");
    }

    [Fact]
    public async Task A_reseller_key_previews_its_own_customers_and_itself_only()
    {
        var preview = await GetAsync<LimitsPreview>("/api/limits", ResellerKey);

        await AssertGroupAsync(preview.Accounts, $"a.{Active} AND a.reseller_id = {Reseller}");
        await AssertGroupAsync(preview.Resellers, $"{IsReseller} AND a.id = {Reseller}");
        Assert.All(preview.Accounts.LowestChannels.Concat(preview.Accounts.LowestCps), a =>
            Assert.True(a.Id >= 100, "only customers"));
    }

    [Fact]
    public async Task The_status_carries_the_same_preview_scoped_to_the_caller()
    {
        var asOperator = await GetAsync<StatusResponse>("/api/status", OperatorKey);
        var asReseller = await GetAsync<StatusResponse>("/api/status", ResellerKey);

        Assert.Equal(JsonSerializer.Serialize(await GetAsync<LimitsPreview>("/api/limits", OperatorKey)), JsonSerializer.Serialize(asOperator.Limits));
        Assert.Equal(JsonSerializer.Serialize(await GetAsync<LimitsPreview>("/api/limits", ResellerKey)), JsonSerializer.Serialize(asReseller.Limits));
    }

    [Fact]
    public async Task Explain_shows_the_account_and_reseller_limits_a_call_would_get()
    {
        var resolved = await GetAsync<ResolveResponse>("/api/ip-auth/resolve?ip=192.0.2.250&number=12066418000&profile=default", OperatorKey);

        Assert.True(resolved.Accepted);
        var limits = resolved.Limits!;
        Assert.False(limits.Applied);
        Assert.Equal((100, 4, 3, (int?)50, (int?)60, (int?)0), (limits.AccountId, limits.MaxChannels, limits.Cps, limits.ResellerId, limits.ResellerMaxChannels, limits.ResellerCps));
        Assert.Equal(
            ["hash fsdir_channels account_100 4 !SWITCH_CONGESTION", "hash fsdir_cps account_100 3/1 !SWITCH_CONGESTION", "hash fsdir_channels account_50 60 !SWITCH_CONGESTION"],
            limits.Actions);
        Assert.Null((await GetAsync<ResolveResponse>("/api/ip-auth/resolve?ip=192.0.2.251&number=12066418000", OperatorKey)).Limits);
    }

    [Fact]
    public async Task The_console_shows_the_preview_on_the_status_page_and_the_limits_on_test_a_call()
    {
        using var console = new ConsoleClient(_server);
        using var login = await console.LogInAsync(ResellerKey);
        var total = await _database.ScalarAsync<long>($"SELECT COUNT(*) FROM accounts a WHERE a.{Active} AND a.reseller_id = {Reseller}");
        var limited = await _database.ScalarAsync<long>($"SELECT COUNT(*) FROM accounts a WHERE a.{Active} AND a.reseller_id = {Reseller} AND (a.maxchannels > 0 OR a.cps > 0)");

        var status = await (await console.GetAsync("/console/status")).Content.ReadAsStringAsync();
        var call = await (await console.GetAsync("/console/test-call?ip=192.0.2.250&number=12066418000&profile=default")).Content.ReadAsStringAsync();

        Assert.Contains("Off (Limits:Enabled is false)", status, StringComparison.Ordinal);
        Assert.Contains($"Accounts: {limited} of {total} limited", status, StringComparison.Ordinal);
        Assert.Contains("data-fact=\"limits\"", call, StringComparison.Ordinal);
        Assert.Contains("limit hash fsdir_channels account_100 4 !SWITCH_CONGESTION", call, StringComparison.Ordinal);
        Assert.Contains("not applied: Limits:Enabled is false", call, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fsdir_limits_and_fsdir_resolve_print_the_preview_and_the_call_limits()
    {
        var (limitsOut, resolveOut) = (new StringWriter(), new StringWriter());

        var limitsExit = await CliApp.RunAsync(["--url", _server.Address.ToString(), "--api-key", ResellerKey, "limits"], limitsOut, TextWriter.Null);
        var resolveExit = await CliApp.RunAsync(["--url", _server.Address.ToString(), "--api-key", OperatorKey, "resolve", "192.0.2.250", "12066418000", "default"], resolveOut, TextWriter.Null);

        Assert.Equal((CliApp.Ok, CliApp.Ok), (limitsExit, resolveExit));
        using var preview = JsonDocument.Parse(limitsOut.ToString());
        Assert.Equal(await _database.ScalarAsync<long>($"SELECT COUNT(*) FROM accounts a WHERE a.{Active} AND a.reseller_id = {Reseller}"),
            preview.RootElement.GetProperty("accounts").GetProperty("total").GetInt64());
        Assert.Contains("account_100 4 !SWITCH_CONGESTION", resolveOut.ToString(), StringComparison.Ordinal);
    }
}
