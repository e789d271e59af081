using System.Buffers;
using System.Buffers.Binary;
using FsDirectory.IpAuth;
using FsDirectory.Xml;

namespace FsDirectory.Acl;

/// <summary>
/// One bucket's allowed networks for one list, kept as addresses (3 bytes a network for IPv4, 9 for
/// IPv6) rather than as their text: at a million rules that is a few megabytes live instead of about
/// 30. They are written out whenever acl.conf is read: once per new snapshot for its digest, and once
/// per fetch. Written as the inside of packed allow nodes (<see cref="AllowNodes"/>): the networks
/// separated by commas, a new node after every <see cref="AllowNodes.MaxCidrs"/>th, with neither the
/// first node's start nor the last one's end, which the document writes around it (it either starts
/// a node for it or, when the node it has open has room for all of them, goes on in that one).
/// </summary>
public sealed class PackedNodes : PackedXmlPart
{
    // Written out through a small scratch writer, copied out each time it fills: a dense bucket has
    // tens of thousands of nodes, and its lines must not need a buffer of their own.
    private const int BatchLength = 16 * 1024;

    [ThreadStatic]
    private static FsXmlWriter? t_scratch;

    private readonly AclBucketKey _bucket;

    // Per node: the address bits below the bucket (2 bytes for IPv4, 8 for IPv6, little-endian), then the prefix length.
    private readonly byte[] _nodes;

    private PackedNodes(AclBucketKey bucket, byte[] nodes, int length)
        : base(length)
    {
        _bucket = bucket;
        _nodes = nodes;
    }

    public int Count => NodeCount(_bucket, _nodes);

    /// <summary>The nodes of <paramref name="cover"/>, which all lie in <paramref name="bucket"/>, in their order.</summary>
    public static PackedNodes Of(AclBucketKey bucket, IReadOnlyList<IpNetwork> cover)
    {
        var size = NodeSize(bucket.IsV4);
        var nodes = new byte[cover.Count * size];
        for (var i = 0; i < cover.Count; i++)
        {
            var network = cover[i];
            if (!AclBucketKey.TryOf(network, out var key) || key != bucket)
            {
                throw new ArgumentException($"{network} is not in bucket {bucket.Network}", nameof(cover));
            }

            var node = nodes.AsSpan(i * size, size);
            if (bucket.IsV4)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(node, (ushort)network.Bits);
            }
            else
            {
                BinaryPrimitives.WriteUInt64LittleEndian(node, (ulong)network.Bits);
            }

            node[^1] = (byte)network.PrefixLength;
        }

        return new PackedNodes(bucket, nodes, Write(bucket, nodes, writer: null));
    }

    public IpNetwork this[int index] => Node(_bucket, _nodes, index);

    public override void WriteTo(IBufferWriter<byte> writer) => Write(_bucket, _nodes, writer);

    private static int NodeSize(bool isV4) => isV4 ? 3 : 9;

    private static int NodeCount(AclBucketKey bucket, byte[] nodes) => nodes.Length / NodeSize(bucket.IsV4);

    private static IpNetwork Node(AclBucketKey bucket, byte[] nodes, int index)
    {
        var size = NodeSize(bucket.IsV4);
        var node = nodes.AsSpan(index * size, size);
        var low = bucket.IsV4 ? BinaryPrimitives.ReadUInt16LittleEndian(node) : BinaryPrimitives.ReadUInt64LittleEndian(node);
        return new IpNetwork(bucket.Network.Bits | low, node[^1], bucket.IsV4);
    }

    /// <summary>Writes the lines (or only counts them, without a writer) and gives their length.</summary>
    private static int Write(AclBucketKey bucket, byte[] nodes, IBufferWriter<byte>? writer)
    {
        var xml = t_scratch ??= FsXmlWriter.Fragment(BatchLength + 1024);
        xml.Reset();
        var length = 0;
        var count = NodeCount(bucket, nodes);
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                xml.Fragment(i % AllowNodes.MaxCidrs == 0 ? AllowNodes.Next : AllowNodes.Separator);
            }

            xml.Text(Node(bucket, nodes, i));
            if (xml.WrittenMemory.Length >= BatchLength || i == count - 1)
            {
                writer?.Write(xml.WrittenMemory.Span);
                length += xml.WrittenMemory.Length;
                xml.Reset();
            }
        }

        return length;
    }
}
