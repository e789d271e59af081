
namespace FsDirectory.ChangeFeed;

/// <summary>Feed ids below the high-water mark that were not seen yet: a transaction still open, or an id that will never commit.</summary>
public readonly record struct FeedGap(long First, long Last, long OpenedAt)
{
    public long Length => Last - First + 1;
}

/// <summary>
/// How far <c>fsdir_change_feed</c> has been read. A feed id is taken when a trigger fires but is
/// visible only once its transaction commits, and commit order is not id order: concurrent
/// transactions, and on a Galera cluster interleaved auto-increment ids (each node steps by the
/// cluster size), let an id commit after higher ones were read, or never (a rollback, another
/// node's unused ids). So "everything above the last id seen" would lose changes. Instead the ids
/// below the high-water mark not seen yet stay open as gaps for a window
/// (<see cref="ChangeFeedOptions.LateCommitWindow"/>, from when the gap was noticed), the feed is
/// re-read from the oldest open gap, and ids already seen are skipped. A change that commits later
/// than that window is the documented bound: the periodic self-check finds it and rebuilds.
/// Applying a row change re-reads the row's current state, so seeing a change twice is harmless.
/// </summary>
public sealed class FeedPosition
{
    /// <summary>Open gaps kept at most; beyond that the oldest are given up (memory bound on a very busy Galera cluster).</summary>
    public const int MaxGaps = 100_000;

    public static readonly FeedPosition Start = new(0, []);

    private FeedPosition(long highWater, FeedGap[] gaps)
    {
        HighWater = highWater;
        Gaps = gaps;
    }

    /// <summary>The highest feed id seen.</summary>
    public long HighWater { get; }

    /// <summary>Ids below <see cref="HighWater"/> not seen yet, ascending.</summary>
    public IReadOnlyList<FeedGap> Gaps { get; }

    /// <summary>The feed is re-read above this id: the oldest open gap, or the high-water mark.</summary>
    public long ReadAfter => Gaps.Count > 0 ? Gaps[0].First - 1 : HighWater;

    public override string ToString() => Gaps.Count == 0 ? $"feed {HighWater}" : $"feed {HighWater} ({Gaps.Count} open gaps from {Gaps[0].First})";

    /// <summary>
    /// The position after a full load that saw <paramref name="highWater"/> as the feed's last id and
    /// <paramref name="recentIds"/> (ascending) as the ids written within the late-commit window: the
    /// holes between them may still commit, so they are open gaps from <paramref name="now"/>.
    /// </summary>
    public static FeedPosition AfterFullLoad(long highWater, IReadOnlyList<long> recentIds, long now)
    {
        var gaps = new List<FeedGap>();
        for (var i = 1; i < recentIds.Count && gaps.Count < MaxGaps; i++)
        {
            if (recentIds[i] > recentIds[i - 1] + 1)
            {
                gaps.Add(new FeedGap(recentIds[i - 1] + 1, recentIds[i] - 1, now));
            }
        }

        return new FeedPosition(highWater, [.. gaps]);
    }

    /// <summary>Whether a change with this id was seen (or its gap given up): it is not applied again.</summary>
    public bool Knows(long id)
    {
        if (id > HighWater)
        {
            return false;
        }

        int lo = 0, hi = Gaps.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var gap = Gaps[mid];
            if (id < gap.First)
            {
                hi = mid - 1;
            }
            else if (id > gap.Last)
            {
                lo = mid + 1;
            }
            else
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The position after reading <paramref name="visibleIds"/> (ascending, all above <see cref="ReadAfter"/>):
    /// ids above the high-water mark are new (skipped ones become gaps), ids inside a gap are late
    /// commits (new too), others were seen. Gaps opened before <paramref name="expireBefore"/> are given up.
    /// </summary>
    public FeedPosition Advance(IEnumerable<long> visibleIds, long now, long expireBefore, out FeedAdvance advance)
    {
        var result = new List<FeedGap>(Gaps.Count + 4);
        var open = new List<FeedGap>(Gaps);
        var next = 0;
        var highWater = HighWater;
        var newIds = new List<long>();
        var late = 0;
        foreach (var id in visibleIds)
        {
            if (id > highWater)
            {
                for (; next < open.Count; next++)
                {
                    result.Add(open[next]);
                }

                if (id > highWater + 1)
                {
                    result.Add(new FeedGap(highWater + 1, id - 1, now));
                }

                highWater = id;
                newIds.Add(id);
                continue;
            }

            while (next < open.Count && open[next].Last < id)
            {
                result.Add(open[next++]);
            }

            if (next < open.Count && open[next].First <= id)
            {
                var gap = open[next];
                if (gap.First < id)
                {
                    result.Add(gap with { Last = id - 1 });
                }

                if (gap.Last > id)
                {
                    open[next] = gap with { First = id + 1 };
                }
                else
                {
                    next++;
                }

                newIds.Add(id);
                late++;
            }
        }

        for (; next < open.Count; next++)
        {
            result.Add(open[next]);
        }

        long expired = 0;
        var kept = result.Where(g => g.OpenedAt >= expireBefore).ToList();
        foreach (var gap in result.Where(g => g.OpenedAt < expireBefore))
        {
            expired += gap.Length;
        }

        if (kept.Count > MaxGaps)
        {
            foreach (var gap in kept.Take(kept.Count - MaxGaps))
            {
                expired += gap.Length;
            }

            kept.RemoveRange(0, kept.Count - MaxGaps);
        }

        advance = new FeedAdvance(newIds, late, expired);
        return new FeedPosition(highWater, [.. kept]);
    }
}

/// <summary>What one read of the feed found: the ids to apply, how many of them committed late, and how many gap ids were given up.</summary>
public sealed record FeedAdvance(IReadOnlyList<long> NewIds, int Late, long ExpiredGapIds);
