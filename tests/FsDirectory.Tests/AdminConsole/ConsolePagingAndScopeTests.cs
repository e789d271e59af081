using System.Globalization;
using System.Text.Json;
using FsDirectory.Admin;
using FsDirectory.Tests.Admin;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.AdminConsole;

/// <summary>
/// The console over more than two pages of random ASTPP-style rules and accounts: paging by its links and by a
/// typed <c>?page=N</c>, in every sort order and with a filter, and a reseller key seeing on every page exactly
/// the rules the list shows it.
/// </summary>
[Collection(ConsoleInChromium.Name)]
public sealed class ConsolePagingAndScopeTests(ConsoleFixture fixture, ResellerScopeData data)
    : ConsoleScenarios(fixture), IClassFixture<ResellerScopeData>
{
    protected override FsDirectoryServer Server => data.Server;

    private static int Number(string? text) => int.Parse(text!, CultureInfo.InvariantCulture);

    private IReadOnlyList<int> RuleRows() =>
        [.. Browser.FindAll("tbody tr[data-rule-id]").Select(r => Number(r.GetAttribute("data-rule-id")))];

    private IReadOnlyList<int> AccountRows() =>
        [.. Browser.FindAll("tbody tr[id^='account-']").Select(r => Number(r.GetAttribute("id")!["account-".Length..]))];

    /// <summary>"page X of Y" from the table's caption.</summary>
    private (int Page, int Of) Caption()
    {
        var words = Browser.Text("caption").Split(' ');
        var at = Array.IndexOf(words, "page");
        return (Number(words[at + 1]), Number(words[at + 3]));
    }

    /// <summary>Opens <paramref name="start"/>, then follows Next to the last page: the rows of every page, in order.</summary>
    private List<int> WalkNext(string start, Func<IReadOnlyList<int>> rows)
    {
        Go(start);
        var seen = new List<int>(rows());
        var page = 1;
        Assert.Equal(1, Caption().Page);
        while (Browser.Exists("a[rel=next]"))
        {
            Browser.ClickAndWait("a[rel=next]");
            page++;
            Assert.Equal(page, Caption().Page);
            Assert.Contains($"page={page}", Path, StringComparison.Ordinal);
            seen.AddRange(rows());
        }

        Assert.Equal(page, Caption().Of);
        return seen;
    }

    private static void AssertEachOnce(IEnumerable<int> expected, List<int> seen, string what)
    {
        Assert.True(seen.Count == seen.Distinct().Count(), $"{what}: a row was shown twice");
        Assert.Equal(expected.Order(), seen.Order());
    }

    [Fact]
    public void Every_rule_is_shown_exactly_once_across_the_pages_in_every_sort_order() => Scenario(() =>
    {
        LogIn(ResellerScopeData.OperatorKey);
        var all = data.VisibleTo(null);
        Assert.True(all.Count > 100, "the data must fill more than two pages");
        foreach (var key in IpSettingsStore.SortKeys)
        {
            foreach (var sort in new[] { key, "-" + key })
            {
                AssertEachOnce(all, WalkNext($"/console/ip-settings?sort={sort}", RuleRows), $"sort {sort}");
            }
        }
    });

    [Fact]
    public void Next_previous_last_first_and_a_typed_page_number_move_through_the_rules() => Scenario(() =>
    {
        LogIn(ResellerScopeData.OperatorKey);
        var all = data.VisibleTo(null).Order().ToList();

        Go("/console/ip-settings?pageSize=25");
        var first = RuleRows();
        Assert.Equal(all.Take(25), first);
        Browser.ClickAndWait("a[rel=next]");
        Assert.Equal(all.Skip(25).Take(25), RuleRows());

        var pages = (all.Count + 24) / 25;
        Browser.ClickAndWait(Browser.FindAll(".pager a").Single(a => a.Text == "Last"));
        Assert.Equal((pages, pages), Caption());
        var backwards = new List<int>(RuleRows());
        while (Browser.Exists("a[rel=prev]"))
        {
            Browser.ClickAndWait("a[rel=prev]");
            backwards.AddRange(RuleRows());
        }

        Assert.Equal((1, pages), Caption());
        AssertEachOnce(all, backwards, "Previous from the last page");

        Go("/console/ip-settings?pageSize=25&page=3");
        Browser.ClickAndWait(Browser.FindAll(".pager a").Single(a => a.Text == "First"));
        Assert.Equal(first, RuleRows());

        // Typed by hand, as the issue did.
        Go("/console/ip-settings?page=2");
        Assert.Equal((2, (all.Count + 49) / 50), Caption());
        Assert.Equal(all.Skip(50).Take(50), RuleRows());
        Go("/console/ip-settings?page=3&pageSize=50");
        Assert.Equal(all.Skip(100).Take(50), RuleRows());
    });

    [Fact]
    public void A_filtered_list_pages_through_exactly_the_rules_it_matches() => Scenario(() =>
    {
        LogIn(ResellerScopeData.OperatorKey);
        // Generated rules are named R2000..R2129; the filter keeps the active ones among them.
        var expected = data.Rules.Where(r => r.Id >= 2000 && r.Status == 0).Select(r => r.Id).ToList();
        Assert.True(expected.Count > 50);

        AssertEachOnce(expected, WalkNext("/console/ip-settings?q=R2&status=0&pageSize=25&sort=-name", RuleRows), "filtered");
        Assert.Contains("q=R2", Path, StringComparison.Ordinal);
        Assert.Contains("status=0", Path, StringComparison.Ordinal);
    });

    [Fact]
    public void The_account_search_pages_with_next_previous_last_and_a_typed_page_number() => Scenario(() =>
    {
        LogIn(ResellerScopeData.OperatorKey);
        var all = data.ListedAccounts.Keys.ToList();
        Assert.True(all.Count > 100, "the data must fill more than two pages");

        AssertEachOnce(all, WalkNext("/console/accounts", AccountRows), "accounts");

        Go("/console/accounts");
        Browser.ClickAndWait(Browser.FindAll(".pager a").Single(a => a.Text == "Last"));
        var pages = Caption().Of;
        Assert.Equal(pages, Caption().Page);
        var backwards = new List<int>(AccountRows());
        while (Browser.Exists("a[rel=prev]"))
        {
            Browser.ClickAndWait("a[rel=prev]");
            backwards.AddRange(AccountRows());
        }

        AssertEachOnce(all, backwards, "accounts, Previous from the last page");

        Go("/console/accounts?page=2");
        Assert.Equal((2, pages), Caption());
        Go("/console/accounts?q=Random&page=2");
        Assert.Equal(2, Caption().Page);
        Assert.All(AccountRows(), id => Assert.True(id >= 1000));
    });

    [Fact]
    public Task Each_reseller_key_sees_on_every_console_page_exactly_the_rules_its_list_shows() => Scenario(async () =>
    {
        var explained = new AdminClient(data.Server, ResellerScopeData.OperatorKey);
        foreach (var reseller in ResellerScopeData.Resellers)
        {
            var visible = data.VisibleTo(reseller);
            LogIn(ResellerScopeData.KeyOf(reseller));

            AssertEachOnce(visible, WalkNext("/console/ip-settings?pageSize=25", RuleRows), $"reseller {reseller}'s list");
            AssertEachOnce(data.ListedAccounts.Where(a => a.Value == reseller).Select(a => a.Key), WalkNext("/console/accounts", AccountRows), $"reseller {reseller}'s accounts");

            Go("/console/ip-settings/problems");
            var linked = Browser.FindAll("tbody a[href*='/ip-settings/edit/']").Select(a => Number(a.GetAttribute("href")!.Split('/')[^1])).ToList();
            Assert.NotEmpty(linked);
            Assert.All(linked, id => Assert.Contains(id, visible));

            foreach (var rule in data.Rules.Where(r => !visible.Contains(r.Id)).Take(3))
            {
                Assert.Equal(404, Browser.FetchStatus($"/console/ip-settings/edit/{rule.Id}"));
            }

            // Test a call: calls won by the key's own rules and by rules it cannot see, as the operator's explain decides them.
            var hidden = 0;
            var shown = 0;
            foreach (var call in data.Rules.Select(r => (r.Address, Number: r.Prefix + "12065550100")).Distinct())
            {
                var (_, full) = await explained.GetAsync($"/api/ip-auth/resolve?ip={Uri.EscapeDataString(call.Address)}&number={Uri.EscapeDataString(call.Number)}&profile=default");
                if (full.GetProperty("rule").ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                var winner = full.GetProperty("rule").GetProperty("id").GetInt32();
                var own = visible.Contains(winner);
                if ((own ? shown : hidden) >= 3)
                {
                    continue;
                }

                Go($"/console/test-call?ip={Uri.EscapeDataString(call.Address)}&number={Uri.EscapeDataString(call.Number)}&profile=default");
                Assert.Equal(full.GetProperty("accepted").GetBoolean() ? "Accepted" : "Refused (403 Forbidden)", Browser.Text("#result-title"));
                var ruleFact = Browser.Find("dd[data-fact=rule]");
                if (own)
                {
                    shown++;
                    Assert.EndsWith($"/ip-settings/edit/{winner}", ruleFact.FindElement(OpenQA.Selenium.By.TagName("a")).GetAttribute("href")!, StringComparison.Ordinal);
                }
                else
                {
                    hidden++;
                    Assert.Contains("a rule you cannot see", ruleFact.Text, StringComparison.Ordinal);
                    Assert.Empty(ruleFact.FindElements(OpenQA.Selenium.By.TagName("a")));
                    Assert.False(Browser.Exists("dd[data-fact=number]"));
                }

                Assert.All(
                    Browser.FindAll("a[href*='/ip-settings/edit/']").Select(a => Number(a.GetAttribute("href")!.Split('/')[^1])),
                    id => Assert.Contains(id, visible));
            }

            Assert.True(hidden > 0 && shown > 0, $"reseller {reseller}: the data gave {shown} calls won by its own rules and {hidden} by others'");
        }
    });
}
