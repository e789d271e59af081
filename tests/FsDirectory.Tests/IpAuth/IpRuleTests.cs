using FsDirectory.IpAuth;

namespace FsDirectory.Tests.IpAuth;

public sealed class IpRuleTests
{
    [Theory]
    [InlineData("", "12066418000", true)]
    [InlineData("12345678*", "12345678*12066418000", true)]
    [InlineData("12345678*", "12345678#12066418000", false)]
    [InlineData("12345678*", "12345678*", true)]
    [InlineData("12345678*", "12345678", false)]
    [InlineData("a", "A1", false)]
    public void A_packed_tech_prefix_matches_exactly_the_numbers_that_start_with_it(string prefix, string number, bool matches)
    {
        var rule = Rule(prefix, "PBX");

        Assert.Equal(matches, rule.PrefixMatches(number));
        Assert.Equal(number.StartsWith(prefix, StringComparison.Ordinal), rule.PrefixMatches(number));
        Assert.Equal((prefix, prefix.Length, "PBX"), (rule.Prefix, rule.PrefixLength, rule.Name));
    }

    [Fact]
    public void Prefix_and_name_set_in_any_order_or_replaced_keep_each_other()
    {
        var rule = Rule("55*", "Acme ☎");
        var renamed = rule with { Name = "Acme 2" };
        var reprefixed = rule with { Prefix = "7#" };
        var shared = RowChecks.Reuse(rule, previous: null, new StringPool());

        Assert.Equal(("55*", "Acme 2"), (renamed.Prefix, renamed.Name));
        Assert.Equal(("7#", "Acme ☎", 2), (reprefixed.Prefix, reprefixed.Name, reprefixed.PrefixLength));
        Assert.Equal(rule, shared);
        Assert.Equal(("55*", "Acme ☎", 3), (shared.Prefix, shared.Name, shared.PrefixLength));
        Assert.Equal(IpNetwork.Parse("203.0.113.0/24"), reprefixed.Network);
    }

    [Theory]
    [InlineData("12345678901234567890123456789012")]
    [InlineData("9é")]
    public void A_prefix_the_packed_rule_cannot_hold_is_refused(string prefix) =>
        Assert.Throws<ArgumentException>(() => Rule(prefix, "x"));

    private static IpRule Rule(string prefix, string name) => new()
    {
        Id = 1,
        Name = name,
        Network = IpNetwork.Parse("203.0.113.0/24"),
        Prefix = prefix,
        Terms = new RuleTerms { AccountId = 7, AccountCode = "1000000007", ResellerId = 0, PricelistId = 1, Context = "default", Profile = null },
    };
}
