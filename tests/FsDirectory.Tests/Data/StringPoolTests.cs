using FsDirectory.Data;

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
}
