using FsDirectory.Admin;
using FsDirectory.IpAuth;

namespace FsDirectory.Tests.Admin;

public sealed class IpRuleAnalysisTests
{
    private static IpRule Rule(int id, string network, int account, string prefix = "", string? profile = "default") => new()
    {
        Id = id, Name = $"r{id}", Network = IpNetwork.Parse(network), Prefix = prefix,
        Terms = new RuleTerms { AccountId = account, AccountCode = $"a{account}", ResellerId = 0, PricelistId = 0, Context = "default", Profile = profile },
    };

    [Fact]
    public void A_rule_bound_to_no_profile_shadows_a_later_rule_with_the_same_network_and_prefix_on_any_profile()
    {
        var problems = IpRuleAnalysis.Overlaps([Rule(1, "10.0.0.0/8", 1, "9", profile: null), Rule(2, "10.0.0.0/8", 2, "9", profile: "trunks")]).ToList();

        var problem = Assert.Single(problems);
        Assert.Equal((2, "shadowed", (int?)1), (problem.RuleId, problem.Kind, problem.OtherRuleId));
    }

    [Fact]
    public void Rules_that_differ_in_prefix_mask_or_profile_are_not_reported()
    {
        var problems = IpRuleAnalysis.Overlaps(
        [
            Rule(1, "10.0.0.0/8", 1, "9"),
            Rule(2, "10.0.0.0/8", 2, "99"),     // longer prefix: wins for 99...
            Rule(3, "10.0.0.0/16", 2, "9"),     // longer mask: wins inside 10.0/16
            Rule(4, "10.0.0.0/8", 2, "9", "trunks"), // another profile
            Rule(5, "10.0.0.0/8", 2, "8"),
        ]);

        Assert.Empty(problems);
    }

    [Fact]
    public void A_later_rule_with_a_profile_does_not_shadow_an_earlier_one_bound_to_every_profile()
    {
        var problems = IpRuleAnalysis.Overlaps([Rule(1, "10.0.0.0/8", 1, profile: "trunks"), Rule(2, "10.0.0.0/8", 2, profile: null)]);

        Assert.Empty(problems);
    }

    [Fact]
    public void Three_accounts_on_one_network_give_two_ties_with_the_lowest_id()
    {
        var problems = IpRuleAnalysis.Overlaps([Rule(7, "2001:db8::/32", 1), Rule(3, "2001:db8::/32", 2), Rule(5, "2001:db8::/32", 3)]).ToList();

        Assert.Equal([(5, "tie", (int?)3), (7, "tie", (int?)3)], problems.Select(p => (p.RuleId, p.Kind, p.OtherRuleId)).OrderBy(p => p.RuleId));
    }

    [Fact]
    public void Csv_lines_are_counted_across_quoted_line_breaks_and_blank_lines()
    {
        var rows = CsvRules.Read("name,ip,accountId\n\n\"two\nlines\",10.0.0.1,1\nplain,10.0.0.2,2\n");

        Assert.Equal([3, 5], rows.Select(r => r.Line));
        Assert.Equal("two\nlines", rows[0].Input.Name);
        var problem = Assert.Throws<AdminProblemException>(() => CsvRules.Read("name,ip,accountId\nx,10.0.0.1,one\n"));
        Assert.Equal("line 2: accountId 'one' is not a whole number", problem.Message);
        problem = Assert.Throws<AdminProblemException>(() => CsvRules.Read("name,ip,accountId,color\n"));
        Assert.Equal(1, problem.Line);
    }

    [Fact]
    public void Exported_cells_never_start_a_spreadsheet_formula_and_import_gives_the_values_back()
    {
        IpSetting[] rules =
        [
            new() { Id = 1, Name = "=HYPERLINK(\"http://x\",\"y\")", Ip = "192.0.2.1/32", AccountId = 2, Prefix = "+44", Context = "@ctx" },
            new() { Id = 2, Name = "-1+2", Ip = "192.0.2.2/32", AccountId = 2, Prefix = "12345678*", Context = "default" },
        ];

        var csv = CsvRules.Write(rules);
        var cells = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .SelectMany(line => line.Split(','))
            .Select(cell => cell.TrimStart('"'));
        Assert.DoesNotContain(cells, cell => cell.Length > 0 && "=+-@\t\r".Contains(cell[0], StringComparison.Ordinal));

        var back = CsvRules.Read(csv);
        Assert.Equal(rules.Select(r => (r.Name, r.Prefix, r.Context)), back.Select(r => (r.Input.Name!, r.Input.Prefix!, r.Input.Context!)));
    }
}
