using FsDirectory.Collections;

namespace FsDirectory.Tests.Collections;

public sealed class PackedTextTests
{
    public static TheoryData<string> Texts() => new()
    {
        string.Empty,
        "bench 123456",
        "Ünïcödé PBX ☎ 𝄞",
        new string('x', 127),
        new string('x', 128),
        new string('é', 9000),
        new string('y', PackedText.MaxBlockLength + 3),
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void Text_packed_alone_or_among_others_reads_back_unchanged(string text)
    {
        Assert.Equal(text, PackedText.Read(PackedText.Alone(text), 0));

        var writer = new PackedText.Writer();
        var before = writer.Add("before");
        var (block, offset) = writer.Add(text);
        var after = writer.Add("after");

        Assert.Equal(text, PackedText.Read(block, offset));
        Assert.Equal("before", PackedText.Read(before.Block, before.Offset));
        Assert.Equal("after", PackedText.Read(after.Block, after.Offset));
        Assert.True(offset < PackedText.MaxBlockLength);
    }

    [Fact]
    public void Equal_texts_are_packed_once_and_a_few_short_ones_take_one_small_block()
    {
        var writer = new PackedText.Writer();
        var first = writer.Add(new string("PBX".AsSpan()));
        var second = writer.Add("office");
        var again = writer.Add(new string("PBX".AsSpan()));

        Assert.Equal(first, again);
        Assert.Same(first.Block, second.Block);
        Assert.True(first.Block.Length <= 256, $"block of {first.Block.Length} bytes for two short texts");
    }

    [Fact]
    public void A_million_names_fill_full_blocks_whose_offsets_fit_sixteen_bits()
    {
        var writer = new PackedText.Writer();
        var blocks = new HashSet<byte[]>(ReferenceEqualityComparer.Instance);
        long payload = 0;
        for (var i = 0; i < 1_000_000; i++)
        {
            var name = "bench " + i;
            payload += PackedText.Size(name);
            var (block, offset) = writer.Add(name);
            Assert.InRange(offset, 0, PackedText.MaxBlockLength - 1);
            blocks.Add(block);
        }

        // About 12.9 MB of entries (a 48-byte string each would be 48 MB): what is wasted is the
        // small first blocks and the tail of each full one.
        var bytes = blocks.Sum(b => (long)b.Length);
        Assert.InRange(bytes, payload, payload + (64 * 1024) + (blocks.Count * 16));
    }
}
