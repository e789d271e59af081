using FsDirectory.Data;
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

    // Each rule gets its own strings, as the database driver gives them.
    private static IpRule Shared(StringPool pool, int id, string context) => RowChecks.Reuse(new IpRule
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
    }, previous: null, pool);
}
