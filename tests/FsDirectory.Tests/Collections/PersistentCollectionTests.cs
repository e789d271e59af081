using FsDirectory.Collections;

namespace FsDirectory.Tests.Collections;

/// <summary>
/// The copy-on-write collections the snapshot is made of, against plain reference collections on
/// random changes: every version answers like the reference did when it was made, later changes never
/// show through an earlier version, and enumeration is in id order.
/// </summary>
public sealed class PersistentCollectionTests
{
    public static TheoryData<int> Seeds => new() { 1, 2, 3 };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Every_version_of_an_id_collection_keeps_answering_like_the_reference_it_was_made_from(int seed)
    {
        var random = new Random(seed);
        var versions = new List<(IdCollection<string> Table, SortedDictionary<int, string> Reference)>();
        var table = IdCollection<string>.Empty;
        var reference = new SortedDictionary<int, string>();
        // Ids dense, stepped like Galera's, and negative, with batches from a few to thousands of changes.
        int RandomId() => random.Next(4) switch
        {
            0 => random.Next(-50, 50),
            1 => random.Next(0, 3000) * 3,
            _ => random.Next(0, 5000),
        };

        for (var batch = 0; batch < 40; batch++)
        {
            var builder = table.ToBuilder();
            for (var change = random.Next(1, batch % 5 == 0 ? 3000 : 40); change > 0; change--)
            {
                var id = RandomId();
                if (random.Next(4) == 0)
                {
                    builder.Set(id, null);
                    reference.Remove(id);
                }
                else
                {
                    var value = $"v{batch}.{change}";
                    builder.Set(id, value);
                    reference[id] = value;
                }
            }

            table = builder.ToTable();
            versions.Add((table, new SortedDictionary<int, string>(reference)));
        }

        foreach (var (version, expected) in versions)
        {
            Assert.Equal(expected.Count, version.Count);
            Assert.Equal(expected.Select(e => (e.Key, e.Value)), version.Entries.Select(e => (e.Key, e.Value)));
            Assert.Equal(expected.Values, version);
            for (var probe = -60; probe < 15_010; probe += 7)
            {
                Assert.Equal(expected.GetValueOrDefault(probe), version.Find(probe));
            }
        }
    }

    [Fact]
    public void Appending_in_id_order_fills_chunks_and_a_later_edit_copies_only_its_chunk()
    {
        var builder = IdCollection<string>.Empty.ToBuilder();
        for (var id = 1; id <= 100_000; id++)
        {
            builder.Set(id, "row");
        }

        var table = builder.ToTable();
        var edit = table.ToBuilder();
        edit.Set(50_000, "edited");
        edit.Set(100_001, "appended");
        var next = edit.ToTable();

        Assert.Equal(100_000, table.Count);
        Assert.Equal("row", table.Find(50_000));
        Assert.Null(table.Find(100_001));
        Assert.Equal(100_001, next.Count);
        Assert.Equal("edited", next.Find(50_000));
        Assert.Equal("appended", next.Find(100_001));
        Assert.Equal(Enumerable.Range(1, 100_001), next.Entries.Select(e => e.Key));
    }

    [Fact]
    public void A_cursor_returns_the_entries_asked_for_and_hands_over_every_one_it_passes()
    {
        var builder = IdCollection<string>.Empty.ToBuilder();
        foreach (var id in new[] { 2, 3, 5, 8, 13, int.MaxValue })
        {
            builder.Set(id, $"v{id}");
        }

        var passed = new List<int>();
        using var cursor = builder.ToTable().Walk((id, _) => passed.Add(id));

        Assert.Null(cursor.Take(1));
        Assert.Equal("v3", cursor.Take(3));
        Assert.Null(cursor.Take(6));
        Assert.Equal("v8", cursor.Take(8));
        cursor.Finish();
        Assert.Equal([2, 5, 13, int.MaxValue], passed);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Every_version_of_a_sharded_dictionary_keeps_answering_like_the_reference_it_was_made_from(int seed)
    {
        var random = new Random(seed);
        var versions = new List<(ShardedDictionary<string, int> Map, Dictionary<string, int> Reference)>();
        var map = new ShardedDictionary<string, int>.Builder(0, StringComparer.Ordinal).ToMap();
        var reference = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var batch = 0; batch < 30; batch++)
        {
            var builder = map.ToBuilder();
            // Growing from one shard to many: the builder re-shards when a map outgrows its shards.
            for (var change = random.Next(1, batch < 10 ? 4000 : 50); change > 0; change--)
            {
                var key = "user" + random.Next(20_000);
                if (random.Next(5) == 0)
                {
                    builder.Remove(key);
                    reference.Remove(key);
                }
                else
                {
                    builder.Set(key, change);
                    reference[key] = change;
                }
            }

            Assert.Equal(reference.Count, builder.Count);
            map = builder.ToMap();
            versions.Add((map, new Dictionary<string, int>(reference, StringComparer.Ordinal)));
        }

        foreach (var (version, expected) in versions)
        {
            Assert.Equal(expected.Count, version.Count);
            Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), version.OrderBy(e => e.Key, StringComparer.Ordinal));
            for (var probe = 0; probe < 20_000; probe += 3)
            {
                var key = "user" + probe;
                Assert.Equal(expected.TryGetValue(key, out var a), version.TryGetValue(key, out var b));
                Assert.Equal(a, b);
            }
        }
    }
}
