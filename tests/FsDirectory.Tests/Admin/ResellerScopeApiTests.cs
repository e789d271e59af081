using System.Net;
using System.Text.Json;
using FsDirectory.Tests.AdminConsole;

namespace FsDirectory.Tests.Admin;

/// <summary>
/// One visibility rule on every path of the API: over random data whose <c>ip_map.reseller_id</c> disagrees with
/// the account's, each reseller key gets exactly the rules of its reseller's accounts from the list, one rule,
/// the CSV export, the problems report, bulk changes and the explain endpoint.
/// </summary>
public sealed class ResellerScopeApiTests(ResellerScopeData data) : IClassFixture<ResellerScopeData>
{
    public static TheoryData<int> Resellers => [.. ResellerScopeData.Resellers];

    private static string Ids(IEnumerable<int> ids) => string.Join(',', ids.Order());

    private AdminClient Key(int? reseller) => new(data.Server, reseller is { } r ? ResellerScopeData.KeyOf(r) : ResellerScopeData.OperatorKey);

    [Fact]
    public void The_random_data_has_rules_whose_row_names_another_reseller_than_their_account()
    {
        // Otherwise the properties below would hold by accident.
        Assert.All(ResellerScopeData.Resellers, r => Assert.NotEmpty(data.VisibleTo(r)));
        Assert.True(data.Rules.Count > 120);
    }

    [Theory]
    [MemberData(nameof(Resellers))]
    public async Task The_list_pages_through_exactly_the_rules_of_the_keys_resellers_accounts(int reseller)
    {
        var client = Key(reseller);
        var seen = new List<int>();
        for (var page = 1; ; page++)
        {
            var (status, json) = await client.GetAsync($"/api/ip-settings?pageSize=7&page={page}&sort=-ip");
            Assert.Equal(HttpStatusCode.OK, status);
            var items = json.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt32()).ToList();
            if (items.Count == 0)
            {
                Assert.Equal(seen.Count, json.GetProperty("total").GetInt32());
                break;
            }

            seen.AddRange(items);
        }

        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Equal(Ids(data.VisibleTo(reseller)), Ids(seen));
    }

    [Theory]
    [MemberData(nameof(Resellers))]
    public async Task One_rule_the_export_and_the_problems_show_the_same_set_as_the_list(int reseller)
    {
        var client = Key(reseller);
        var visible = data.VisibleTo(reseller);

        foreach (var rule in data.Rules)
        {
            var (status, _) = await client.GetAsync($"/api/ip-settings/{rule.Id}");
            Assert.Equal(visible.Contains(rule.Id) ? HttpStatusCode.OK : HttpStatusCode.NotFound, status);
        }

        var (exportStatus, csv) = await client.GetAsync("/api/ip-settings/export");
        Assert.Equal(HttpStatusCode.OK, exportStatus);
        var exported = csv.GetString()!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => int.Parse(l.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(Ids(visible), Ids(exported));

        var (_, all) = await Key(null).GetAsync("/api/ip-settings/problems");
        var (problemsStatus, problems) = await client.GetAsync("/api/ip-settings/problems");
        Assert.Equal(HttpStatusCode.OK, problemsStatus);
        // The same problems as the operator's, of the visible rules only, and none names a rule the key cannot see.
        Assert.Equal(
            Ids(all.EnumerateArray().Select(p => p.GetProperty("ruleId").GetInt32()).Where(visible.Contains)),
            Ids(problems.EnumerateArray().Select(p => p.GetProperty("ruleId").GetInt32())));
        Assert.NotEmpty(problems.EnumerateArray());
        foreach (var problem in problems.EnumerateArray())
        {
            var other = problem.GetProperty("otherRuleId");
            if (other.ValueKind == JsonValueKind.Number)
            {
                Assert.Contains(other.GetInt32(), visible);
            }
            else if (problem.GetProperty("kind").GetString() is "tie" or "shadowed")
            {
                Assert.Contains("a rule you cannot see", problem.GetProperty("problem").GetString(), StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Resellers))]
    public async Task Explaining_any_call_shows_only_visible_rules_and_still_says_whether_it_is_accepted(int reseller)
    {
        var client = Key(reseller);
        var visible = data.VisibleTo(reseller);
        var hiddenWinners = 0;
        foreach (var call in data.Rules.Select(r => (r.Address, Number: r.Prefix + "12065550100")).Distinct())
        {
            var query = $"/api/ip-auth/resolve?ip={Uri.EscapeDataString(call.Address)}&number={Uri.EscapeDataString(call.Number)}&profile=default";
            var (_, full) = await Key(null).GetAsync(query);
            var (status, scoped) = await client.GetAsync(query);
            Assert.Equal(HttpStatusCode.OK, status);

            Assert.Equal(full.GetProperty("accepted").GetBoolean(), scoped.GetProperty("accepted").GetBoolean());
            Assert.Equal(
                Ids(full.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("id").GetInt32()).Where(visible.Contains)),
                Ids(scoped.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("id").GetInt32())));
            if (full.GetProperty("rule").ValueKind == JsonValueKind.Null)
            {
                Assert.Equal(JsonValueKind.Null, scoped.GetProperty("rule").ValueKind);
                Assert.False(scoped.GetProperty("ruleHidden").GetBoolean());
                continue;
            }

            var winner = full.GetProperty("rule").GetProperty("id").GetInt32();
            if (visible.Contains(winner))
            {
                Assert.Equal(winner, scoped.GetProperty("rule").GetProperty("id").GetInt32());
                Assert.False(scoped.GetProperty("ruleHidden").GetBoolean());
            }
            else
            {
                hiddenWinners++;
                Assert.Equal(JsonValueKind.Null, scoped.GetProperty("rule").ValueKind);
                Assert.True(scoped.GetProperty("ruleHidden").GetBoolean());
                Assert.Equal(JsonValueKind.Null, scoped.GetProperty("number").ValueKind);
                Assert.Equal(JsonValueKind.Null, scoped.GetProperty("context").ValueKind);
                Assert.DoesNotContain($"R{winner}", scoped.GetRawText(), StringComparison.Ordinal);
            }
        }

        // Every key here meets calls decided by another reseller's rule.
        Assert.True(hiddenWinners > 0, "no explained call was won by a rule the key cannot see");
    }

    [Theory]
    [MemberData(nameof(Resellers))]
    public async Task A_bulk_change_naming_one_rule_the_key_cannot_see_changes_nothing(int reseller)
    {
        var visible = data.VisibleTo(reseller);
        var own = data.Rules.First(r => visible.Contains(r.Id) && r.Status == 0).Id;
        var foreign = data.Rules.First(r => !visible.Contains(r.Id) && r.Status == 0).Id;

        var (status, _) = await Key(reseller).PostAsync("/api/ip-settings/status", new { ids = new[] { own, foreign }, status = 1 });

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal(0L, await data.Database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map WHERE id IN (@own, @foreign) AND status = 1", new { own, foreign }));
    }
}
