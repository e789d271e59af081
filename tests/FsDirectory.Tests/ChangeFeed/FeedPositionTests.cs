using FsDirectory.ChangeFeed;

namespace FsDirectory.Tests.ChangeFeed;

/// <summary>
/// Reading the change feed when ids commit out of order: concurrent transactions, rollbacks, and
/// Galera's interleaved auto-increment ids. Nothing may be skipped inside the late-commit window,
/// nothing applied twice, and given-up gaps never force a rebuild.
/// </summary>
public sealed class FeedPositionTests
{
    private const long Window = 1000;

    [Fact]
    public void Ids_above_the_high_water_mark_are_new_and_skipped_ids_become_gaps()
    {
        var position = FeedPosition.Start.Advance([1, 2, 5, 6, 9], now: 0, expireBefore: -Window, out var advance);

        Assert.Equal([1L, 2, 5, 6, 9], advance.NewIds);
        Assert.Equal(9, position.HighWater);
        Assert.Equal([new FeedGap(3, 4, 0), new FeedGap(7, 8, 0)], position.Gaps);
        Assert.Equal(2, position.ReadAfter);
    }

    [Fact]
    public void An_id_that_commits_after_higher_ones_is_applied_once_and_closes_its_gap()
    {
        var position = FeedPosition.Start.Advance([1, 2, 5], 0, -Window, out _);

        // The next read starts below the gap and sees 5 again: only 4 is new.
        position = position.Advance([4, 5, 6], 10, 10 - Window, out var advance);

        Assert.Equal([4L, 6], advance.NewIds);
        Assert.Equal(1, advance.Late);
        Assert.Equal([new FeedGap(3, 3, 0)], position.Gaps);
        Assert.True(position.Knows(4));
        Assert.False(position.Knows(3));
        Assert.True(position.Knows(5));
        Assert.False(position.Knows(7));
    }

    [Fact]
    public void A_gap_is_given_up_after_the_window_without_anything_being_applied()
    {
        var position = FeedPosition.Start.Advance([1, 10], 0, -Window, out _);

        position = position.Advance([10, 11], Window + 1, 1, out var advance);

        Assert.Equal([11L], advance.NewIds);
        Assert.Equal(8, advance.ExpiredGapIds);
        Assert.Empty(position.Gaps);
        Assert.Equal(11, position.ReadAfter);
        Assert.True(position.Knows(5));
    }

    [Fact]
    public void Ids_stepped_by_three_like_a_galera_node_leave_gaps_that_close_when_the_other_nodes_commit()
    {
        // Node 1 (offset 1) commits first; nodes 2 and 3 commit their ids later, one of them never.
        var position = FeedPosition.Start.Advance([1, 4, 7, 10], 0, -Window, out var first);
        position = position.Advance([2, 4, 5, 7, 8, 10], 5, 5 - Window, out var second);

        Assert.Equal([1L, 4, 7, 10], first.NewIds);
        Assert.Equal([2L, 5, 8], second.NewIds);
        Assert.Equal([new FeedGap(3, 3, 0), new FeedGap(6, 6, 0), new FeedGap(9, 9, 0)], position.Gaps);

        // Node 3 never uses its ids: after the window they are given up, with nothing to apply.
        position = position.Advance([4, 5, 7, 8, 10], 2 * Window, Window, out var expired);
        Assert.Empty(expired.NewIds);
        Assert.Equal(3, expired.ExpiredGapIds);
        Assert.Equal(10, position.ReadAfter);
    }

    [Fact]
    public void After_a_full_load_the_holes_among_recent_ids_stay_open()
    {
        var position = FeedPosition.AfterFullLoad(20, [12, 13, 16, 20], now: 7);

        Assert.Equal(20, position.HighWater);
        Assert.Equal([new FeedGap(14, 15, 7), new FeedGap(17, 19, 7)], position.Gaps);
        Assert.False(position.Knows(15));
        Assert.True(position.Knows(16));
        Assert.True(position.Knows(11));
    }

    [Fact]
    public void Open_gaps_are_bounded_and_the_oldest_are_given_up_first()
    {
        var ids = Enumerable.Range(0, FeedPosition.MaxGaps + 10).Select(i => (long)i * 2 + 1).ToList();

        var position = FeedPosition.Start.Advance(ids, 0, -Window, out var advance);

        Assert.Equal(FeedPosition.MaxGaps, position.Gaps.Count);
        // Odd ids leave one even id open between each two: MaxGaps + 9 gaps, the first 9 given up.
        Assert.Equal(9, advance.ExpiredGapIds);
        Assert.Equal(ids[^1], position.HighWater);
        Assert.Equal(ids[9] + 1, position.Gaps[0].First);
    }
}
