using System.Globalization;

namespace FsDirectory.Tests.AdminConsole;

/// <summary>The audit trail page in Chromium: its filters, its pages, a reseller's scope, and a rule's "History" link.</summary>
[Collection(ConsoleInChromium.Name)]
public sealed class ConsoleAuditTests(ConsoleFixture fixture) : ConsoleScenarios(fixture)
{
    private const string Key = "console-audit-test";

    private IReadOnlyList<long> Rows() =>
        [.. Browser.FindAll("tbody tr[data-audit-id]").Select(r => long.Parse(r.GetAttribute("data-audit-id")!, CultureInfo.InvariantCulture))];

    /// <summary>60 records under their own key name, one a minute back from now: 40 deactivations for reseller 1, 20 deletions for reseller 9.</summary>
    private async Task<IReadOnlyList<(long Id, string Action, int Reseller)>> RecordsAsync()
    {
        if (await Database.ScalarAsync<long>("SELECT COUNT(*) FROM fsdir_audit WHERE key_name = @Key", new { Key }) == 0)
        {
            for (var i = 0; i < 60; i++)
            {
                await Database.ExecuteAsync("""
                    INSERT INTO fsdir_audit (request_id, changed_at, key_name, client_address, via, entity, entity_id, action, account_id, reseller_id, before_json, after_json)
                    VALUES (@requestId, UTC_TIMESTAMP(6) - INTERVAL @minutes MINUTE, @Key, '198.51.100.9', 'api', 'ip_setting', @entityId, @action, @account, @reseller, '{"status":0}', @after)
                    """,
                    new
                    {
                        requestId = $"consoleaudit{i:D20}", minutes = i + 1, Key, entityId = 5000 + i, action = i < 40 ? "deactivate" : "delete",
                        account = i < 40 ? 2 : 31, reseller = i < 40 ? 1 : 9, after = i < 40 ? """{"status":1}""" : null,
                    });
            }
        }

        return [.. await Database.QueryAsync<(long, string, int)>(
            "SELECT id, action, reseller_id FROM fsdir_audit WHERE key_name = @Key ORDER BY changed_at DESC, id DESC", new { Key })];
    }

    [Fact]
    public Task The_audit_page_pages_through_exactly_the_records_its_filters_match_newest_first() => Scenario(async () =>
    {
        var records = await RecordsAsync();
        LogIn(ConsoleFixture.AdminKey);

        Go($"/console/audit?key={Key}&pageSize=25");
        var seen = new List<long>(Rows());
        Assert.Contains("page 1 of 3 (60 in all)", Browser.Text("caption"), StringComparison.Ordinal);
        while (Browser.Exists("a[rel=next]"))
        {
            Browser.ClickAndWait("a[rel=next]");
            Assert.Contains($"key={Key}", Path, StringComparison.Ordinal);
            seen.AddRange(Rows());
        }

        Assert.Equal(records.Select(r => r.Id), seen);

        // The filter form: only the deletions, and the page size kept on the way back.
        Browser.ClickAndWait(Browser.FindAll(".pager a").Single(a => a.Text == "First"));
        Select("#audit-action", "delete");
        Browser.ClickAndWait("form.filters button[type=submit]");
        Assert.Contains("action=delete", Path, StringComparison.Ordinal);
        Assert.Equal(records.Where(r => r.Action == "delete").Select(r => r.Id), Rows());
        Assert.False(Browser.Exists("a[rel=next]"));
        Assert.Contains("status", Browser.Text($"#audit-{records[^1].Id}"), StringComparison.Ordinal);

        // The time range: the last ten minutes hold the ten newest records.
        var from = DateTime.UtcNow.AddMinutes(-10.5).ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);
        Go($"/console/audit?key={Key}&from={from}");
        Assert.Equal(records.Take(10).Select(r => r.Id), Rows());
    });

    [Fact]
    public Task A_reseller_sees_only_its_own_records_on_the_audit_page() => Scenario(async () =>
    {
        var records = await RecordsAsync();
        LogIn(ConsoleFixture.OtherResellerKey);
        Go($"/console/audit?key={Key}&pageSize=100");
        Assert.Equal(records.Where(r => r.Reseller == 9).Select(r => r.Id), Rows());

        LogIn(ConsoleFixture.ResellerKey);
        Go($"/console/audit?key={Key}&pageSize=25&page=2");
        Assert.Equal(records.Where(r => r.Reseller == 1).Skip(25).Take(25).Select(r => r.Id), Rows());
    });

    [Fact]
    public Task A_rules_history_link_opens_the_audit_trail_of_that_rule() => Scenario(async () =>
    {
        await Database.ExecuteAsync("""
            INSERT INTO fsdir_audit (request_id, changed_at, key_name, via, entity, entity_id, action, account_id, reseller_id, before_json, after_json)
            VALUES ('consolehistory', UTC_TIMESTAMP(6), 'history-test', 'console', 'ip_setting', 40, 'replace', 2, 1, '{"name":"old name"}', '{"name":"tie first"}')
            """);
        LogIn(ConsoleFixture.AdminKey);
        Go("/console/ip-settings/edit/40");
        Browser.ClickAndWait(Browser.FindAll("a").Single(a => a.Text == "History"));
        Assert.Contains("entity=ip_setting", Path, StringComparison.Ordinal);
        Assert.Contains("id=40", Path, StringComparison.Ordinal);
        var row = Browser.FindAll("tbody tr[data-audit-id]").Single(r => r.Text.Contains("history-test", StringComparison.Ordinal));
        Assert.Contains("old name", row.Text, StringComparison.Ordinal);
        Assert.Contains("tie first", row.Text, StringComparison.Ordinal);
    });
}
