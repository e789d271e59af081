using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using FsDirectory.Acl;
using FsDirectory.IpAuth;
using FsDirectory.Xml;
using Microsoft.AspNetCore.Http;

namespace FsDirectory.Tests.Acl;

public sealed class PackedNodesTests
{
    public static TheoryData<string, int> Covers() => new()
    {
        { "10.20.0.0/16", 1 },
        { "10.20.0.0/16", 7 },
        { "10.20.0.0/16", 5_000 },
        { "2001:db8:1:2::/64", 1 },
        { "2001:db8:1:2::/64", 3_000 },
    };

    [Theory]
    [MemberData(nameof(Covers))]
    public void Packed_nodes_write_out_their_networks_separated_by_commas_and_a_new_node_after_every_32nd(string bucket, int count)
    {
        var cover = Cover(IpNetwork.Parse(bucket), count, new Random(count));
        var expected = Lines(cover);

        var packed = PackedNodes.Of(Key(bucket), cover);

        Assert.Equal(cover, Enumerable.Range(0, packed.Count).Select(i => packed[i]));
        Assert.Equal(expected.Length, packed.Length);
        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(packed.Part.Span));

        // A writer that hands out small spans gets it a piece at a time.
        var small = new SmallSpans();
        PackedXmlPart.Write(packed.Part, small);
        Assert.Equal(expected, small.Written.ToArray());
    }

    [Fact]
    public void A_node_outside_the_bucket_is_refused()
    {
        Assert.Throws<ArgumentException>(() => PackedNodes.Of(Key("10.20.0.0/16"), [IpNetwork.Parse("10.21.0.1/32")]));
        Assert.Throws<ArgumentException>(() => PackedNodes.Of(Key("10.20.0.0/16"), [IpNetwork.Parse("10.0.0.0/8")]));
    }

    [Fact]
    public async Task A_document_of_packed_and_written_parts_is_served_joined_and_hashed_as_its_text()
    {
        var random = new Random(7);
        var builder = new XmlParts.Builder();
        var expected = new MemoryStream();
        for (var i = 0; i < 40; i++)
        {
            var text = Encoding.UTF8.GetBytes($"<list name=\"{i}\">\n");
            builder.Add(text);
            expected.Write(text);
            var cover = Cover(IpNetwork.Parse(i % 2 == 0 ? $"10.{i}.0.0/16" : $"2001:db8:{i:x}::/64"), random.Next(1, 400), random);
            builder.Add(PackedNodes.Of(Key(cover[0]), cover).Part);
            expected.Write(Lines(cover));
        }

        var answer = new XmlAnswer(builder.ToParts(), "answered");
        var context = new DefaultHttpContext { Response = { Body = new MemoryStream() } };
        await answer.ExecuteAsync(context);

        Assert.Equal(expected.Length, context.Response.ContentLength);
        Assert.Equal(expected.ToArray(), ((MemoryStream)context.Response.Body).ToArray());
        Assert.Equal(expected.ToArray(), answer.Body.ToArray());
        Assert.Equal(SHA256.HashData(expected.ToArray()), answer.Sha256());
    }

    private static AclBucketKey Key(string network) => Key(IpNetwork.Parse(network));

    private static AclBucketKey Key(IpNetwork network) =>
        AclBucketKey.TryOf(network, out var key) ? key : throw new ArgumentException("wider than a bucket", nameof(network));

    // Distinct networks of random lengths inside the bucket, sorted: what a bucket's cover looks like.
    private static List<IpNetwork> Cover(IpNetwork bucket, int count, Random random)
    {
        var hostBits = bucket.Width - bucket.PrefixLength;
        var cover = new HashSet<IpNetwork>();
        while (cover.Count < count)
        {
            var length = bucket.PrefixLength + 1 + random.Next(hostBits);
            var offset = (UInt128)(ulong)random.NextInt64() & IpNetwork.AllOnes(Math.Min(hostBits, 63));
            cover.Add(new IpNetwork(bucket.Bits | (offset & ~IpNetwork.AllOnes(bucket.Width - length)), length, bucket.IsV4));
        }

        return [.. cover.OrderBy(n => n.First)];
    }

    // The inside of packed allow nodes, built with plain strings: what the document writes around it is a node's start and end.
    private static byte[] Lines(IEnumerable<IpNetwork> cover) =>
        Encoding.UTF8.GetBytes(string.Join("\"/>\n<node type=\"allow\" cidr=\"", cover.Chunk(32).Select(static chunk => string.Join(',', chunk))));

    private sealed class SmallSpans : IBufferWriter<byte>
    {
        private readonly ArrayBufferWriter<byte> _written = new();

        public ReadOnlyMemory<byte> Written => _written.WrittenMemory;

        public void Advance(int count) => _written.Advance(count);

        public Memory<byte> GetMemory(int sizeHint = 0) => _written.GetMemory(100)[..100];

        public Span<byte> GetSpan(int sizeHint = 0) => _written.GetSpan(100)[..100];
    }
}
