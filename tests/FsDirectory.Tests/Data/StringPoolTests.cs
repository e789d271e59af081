using FsDirectory.IpAuth;

namespace FsDirectory.Tests.Data;

public sealed class StringPoolTests
{
    [Fact]
    public void Equal_strings_come_back_as_one_instance_and_different_ones_stay_apart()
    {
        var pool = new StringPool();
        var first = pool.Share(new string("default".AsSpan()));
        var second = pool.Share(new string("default".AsSpan()));
        var other = pool.Share(new string("Default".AsSpan()));

        Assert.Same(first, second);
        Assert.NotSame(first, other);
        Assert.Equal("Default", other);
    }

    [Fact]
    public void Shared_keys_keep_their_values_and_order()
    {
        var pool = new StringPool();
        KeyValuePair<string, string>[] a = [new(new string("vm-password".AsSpan()), "1"), new("x", "2")];
        KeyValuePair<string, string>[] b = [new(new string("vm-password".AsSpan()), "3")];

        var sharedA = pool.ShareKeys(a);
        var sharedB = pool.ShareKeys(b);

        Assert.Same(sharedA[0].Key, sharedB[0].Key);
        Assert.Equal(["1", "2"], sharedA.Select(f => f.Value));
        Assert.Equal("3", sharedB[0].Value);
    }

    [Fact]
    public void Rules_with_equal_terms_share_one_terms_object_and_keep_their_own_address_and_values()
    {
        var pool = new StringPool();
        var a = Shared(pool, 1, "default");
        var b = Shared(pool, 2, "default");
        var c = Shared(pool, 3, "routing");

        Assert.Same(a.Terms, b.Terms);
        Assert.NotSame(a.Terms, c.Terms);
        Assert.Same(a.AccountCode, c.AccountCode);
        Assert.Equal(("routing", 7, "1000000007"), (c.Context, c.AccountId, c.AccountCode));
        Assert.Equal(IpNetwork.Parse("192.0.2.2/32"), b.Network);
        Assert.Equal(IpNetwork.Parse("192.0.2.3/32"), c.Network);
    }

    [Fact]
    public void Shared_rules_keep_their_names_and_equal_the_rules_they_were_made_from()
    {
        var pool = new StringPool();
        var made = Enumerable.Range(1, 3).Select(id => Made(id, "default")).ToList();
        var shared = made.Select(rule => RowChecks.Reuse(rule, previous: null, pool)).ToList();

        Assert.Equal(["r1", "r2", "r3"], shared.Select(r => r.Name));
        Assert.Equal(made, shared);
        Assert.Equal(made.Select(r => r.GetHashCode()), shared.Select(r => r.GetHashCode()));
        Assert.NotEqual(shared[0], shared[0] with { Name = "r1 " });
        Assert.NotEqual(shared[0], shared[0] with { Network = IpNetwork.Parse("192.0.2.0/31") });
        Assert.NotEqual(shared[0], shared[0] with { Prefix = "9" });
        Assert.Equal(shared[0], shared[0] with { Prefix = "9" } with { Prefix = string.Empty });

        // Unchanged rules come back as the previous object, so snapshots keep sharing them.
        Assert.Same(shared[1], RowChecks.Reuse(Made(2, "default"), shared[1], new StringPool()));
    }

    // Each rule gets its own strings, as the database driver gives them.
    private static IpRule Shared(StringPool pool, int id, string context) => RowChecks.Reuse(Made(id, context), previous: null, pool);

    private static IpRule Made(int id, string context) => new()
    {
        Id = id,
        Name = $"r{id}",
        Network = IpNetwork.Parse($"192.0.2.{id}/32"),
        Prefix = string.Empty,
        Terms = new RuleTerms
        {
            AccountId = 7,
            AccountCode = new string("1000000007".AsSpan()),
            ResellerId = 0,
            PricelistId = 1,
            Context = new string(context.AsSpan()),
            Profile = null,
        },
    };
}
