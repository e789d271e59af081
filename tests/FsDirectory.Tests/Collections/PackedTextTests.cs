using FsDirectory.Collections;

namespace FsDirectory.Tests.Collections;

public sealed class PackedTextTests
{
    public static TheoryData<string, string> Pairs() => new()
    {
        { string.Empty, string.Empty },
        { "12345678*", "bench 123456" },
        { string.Empty, "Ünïcödé PBX ☎ 𝄞" },
        { "9#", new string('x', 127) },
        { new string('7', 128), new string('x', 128) },
        { "1", new string('é', 9000) },
        { "0", new string('y', PackedText.MaxBlockLength + 3) },
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void A_pair_packed_alone_or_among_others_reads_back_unchanged(string first, string second)
    {
        var alone = PackedText.Alone(first, second);
        Assert.Equal((first, second), (PackedText.Read(alone, 0, 0), PackedText.Read(alone, 0, 1)));
        Assert.Equal(alone.Length, PackedText.Entry(alone, 0).Length);

        var writer = new PackedText.Writer();
        var before = writer.Add("1#", "before");
        var (block, offset) = writer.Add(first, second);
        var after = writer.Add(string.Empty, "after");

        Assert.Equal((first, second), (PackedText.Read(block, offset, 0), PackedText.Read(block, offset, 1)));
        Assert.Equal(alone, PackedText.Entry(block, offset).ToArray());
        Assert.Equal(("1#", "before"), (PackedText.Read(before.Block, before.Offset, 0), PackedText.Read(before.Block, before.Offset, 1)));
        Assert.Equal("after", PackedText.Read(after.Block, after.Offset, 1));
        Assert.True(offset < PackedText.MaxBlockLength);
    }

    [Fact]
    public void Equal_pairs_are_packed_once_and_a_few_short_ones_take_one_small_block()
    {
        var writer = new PackedText.Writer();
        var first = writer.Add(string.Empty, new string("PBX".AsSpan()));
        var second = writer.Add(string.Empty, "office");
        var again = writer.Add(string.Empty, new string("PBX".AsSpan()));
        var otherPrefix = writer.Add("9", "PBX");

        Assert.Equal(first, again);
        Assert.NotEqual(first, otherPrefix);
        Assert.Same(first.Block, second.Block);
        Assert.True(first.Block.Length <= 256, $"block of {first.Block.Length} bytes for three short pairs");
    }

    [Fact]
    public void A_million_rules_fill_full_blocks_whose_offsets_fit_sixteen_bits()
    {
        var writer = new PackedText.Writer();
        var blocks = new HashSet<byte[]>(ReferenceEqualityComparer.Instance);
        long payload = 0;
        for (var i = 0; i < 1_000_000; i++)
        {
            var (prefix, name) = (i % 3 == 0 ? string.Empty : (i % 100_000_000).ToString("D8") + "*", "bench " + i);
            var (block, offset) = writer.Add(prefix, name);
            payload += PackedText.Entry(block, offset).Length;
            Assert.InRange(offset, 0, PackedText.MaxBlockLength - 1);
            blocks.Add(block);
        }

        // About 19 MB of entries (as two strings each they would be about 75 MB): what is wasted is
        // the small first blocks and the tail of each full one.
        var bytes = blocks.Sum(b => (long)b.Length);
        Assert.InRange(bytes, payload, payload + (64 * 1024) + (blocks.Count * 32));
    }
}
