using FsDirectory.Cluster;
using FsDirectory.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace FsDirectory.Tests.Cluster;

/// <summary>
/// The lease's state machine over the real lease row, with a clock per instance that moves only when
/// the test moves it: each instance measures time on its own clock, as separate machines do.
/// </summary>
public sealed class PushLeaseTests
{
    private static readonly ClusterOptions Defaults = new();

    private sealed class Contender(string name)
    {
        public ManualClock Clock { get; } = new() { Ticks = 1_000_000 };

        public PushLease Lease { get; private set; } = null!;

        public int TakeOvers { get; private set; }

        public string Id { get; } = name;

        public Contender Start()
        {
            Lease = new PushLease(new ClusterStore(), new InstanceIdentity(Id), Options.Create(Defaults), Clock, NullLogger<PushLease>.Instance);
            Lease.TookOver += () => TakeOvers++;
            return this;
        }
    }

    /// <summary>A database with the lease row, one connection, and the contenders that tick on it in turn.</summary>
    private sealed class LeaseTable : IAsyncDisposable
    {
        private LeaseTable(TestDatabase database, MySqlConnection connection)
        {
            Database = database;
            Connection = connection;
        }

        public TestDatabase Database { get; }

        public MySqlConnection Connection { get; }

        public static async Task<LeaseTable> CreateAsync()
        {
            var database = await TestDatabase.CreateAsync(seed: false);
            return new LeaseTable(database, await OpenAsync(database));
        }

        public async Task TickAsync(params Contender[] contenders)
        {
            foreach (var contender in contenders)
            {
                await contender.Lease.TickAsync(Connection, default);
            }
        }

        public static async Task<MySqlConnection> OpenAsync(TestDatabase database)
        {
            var connection = new MySqlConnection(database.ConnectionString);
            await connection.OpenAsync();
            return connection;
        }

        public async ValueTask DisposeAsync()
        {
            await Connection.DisposeAsync();
            await Database.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_free_lease_is_taken_by_the_first_instance_and_watched_by_the_second()
    {
        await using var table = await LeaseTable.CreateAsync();
        var a = new Contender("a").Start();
        var b = new Contender("b").Start();

        await table.TickAsync(a, b);

        Assert.True(a.Lease.IsHolder);
        Assert.Equal(1, a.TakeOvers);
        Assert.False(b.Lease.IsHolder);
        Assert.Equal("a", b.Lease.View().Holder);
        Assert.Equal("a", await table.Database.ScalarAsync<string>("SELECT holder FROM fsdir_lease WHERE name = 'esl_push'"));
    }

    [Fact]
    public async Task A_silent_holder_stops_pushing_before_the_watcher_may_take_over_and_the_watcher_then_does()
    {
        await using var table = await LeaseTable.CreateAsync();
        var a = new Contender("a").Start();
        var b = new Contender("b").Start();
        await table.TickAsync(a, b);

        // a goes silent (its renewals fail); both clocks run on.
        a.Clock.Advance(Defaults.HoldFor);
        b.Clock.Advance(Defaults.HoldFor);
        await table.TickAsync(b);
        Assert.False(a.Lease.IsHolder);
        Assert.False(b.Lease.IsHolder);

        b.Clock.Advance(Defaults.TakeoverAfter - Defaults.HoldFor - TimeSpan.FromMilliseconds(1));
        await table.TickAsync(b);
        Assert.False(b.Lease.IsHolder);

        b.Clock.Advance(TimeSpan.FromMilliseconds(1));
        await table.TickAsync(b);
        Assert.True(b.Lease.IsHolder);
        Assert.Equal(1, b.TakeOvers);

        // a comes back: its renewal names a term that is over, so it stays a watcher.
        await table.TickAsync(a);
        Assert.False(a.Lease.IsHolder);
        Assert.Equal("b", a.Lease.View().Holder);
        Assert.Equal(2, a.Lease.View().Term);
    }

    [Fact]
    public async Task A_holder_that_keeps_renewing_is_never_taken_over()
    {
        await using var table = await LeaseTable.CreateAsync();
        var a = new Contender("a").Start();
        var b = new Contender("b").Start();
        await table.TickAsync(a);

        for (var i = 0; i < 20; i++)
        {
            a.Clock.Advance(Defaults.RenewInterval);
            b.Clock.Advance(Defaults.RenewInterval);
            await table.TickAsync(a, b);
            Assert.True(a.Lease.IsHolder);
            Assert.False(b.Lease.IsHolder);
        }

        Assert.Equal(1, a.TakeOvers);
        Assert.Equal(0, b.TakeOvers);
    }

    [Fact]
    public async Task A_holder_whose_hold_lapsed_resyncs_when_it_renews_again()
    {
        await using var table = await LeaseTable.CreateAsync();
        var a = new Contender("a").Start();
        await table.TickAsync(a);

        // The database did not answer for longer than HoldFor, and nobody else took over meanwhile.
        a.Clock.Advance(Defaults.HoldFor + TimeSpan.FromSeconds(1));
        Assert.False(a.Lease.IsHolder);
        await table.TickAsync(a);

        Assert.True(a.Lease.IsHolder);
        Assert.Equal(2, a.TakeOvers);
    }

    [Fact]
    public async Task A_released_lease_is_taken_at_once_by_the_next_instance()
    {
        await using var table = await LeaseTable.CreateAsync();
        var a = new Contender("a").Start();
        var b = new Contender("b").Start();
        await table.TickAsync(a, b);

        await a.Lease.ReleaseAsync(table.Connection, default);
        await table.TickAsync(b);

        Assert.False(a.Lease.IsHolder);
        Assert.True(b.Lease.IsHolder);
    }

    [Fact]
    public async Task Of_two_instances_that_both_see_a_dead_holder_exactly_one_takes_over()
    {
        await using var table = await LeaseTable.CreateAsync();
        var dead = new Contender("dead").Start();
        await table.TickAsync(dead);
        var b = new Contender("b").Start();
        var c = new Contender("c").Start();
        await table.TickAsync(b, c);
        b.Clock.Advance(Defaults.TakeoverAfter);
        c.Clock.Advance(Defaults.TakeoverAfter);

        await using var other = await LeaseTable.OpenAsync(table.Database);
        await Task.WhenAll(b.Lease.TickAsync(table.Connection, default), c.Lease.TickAsync(other, default));

        Assert.True(b.Lease.IsHolder ^ c.Lease.IsHolder);
        Assert.Equal(1, b.TakeOvers + c.TakeOvers);
    }

    [Theory]
    [InlineData("00:00:01", "00:00:01", "00:00:06")]
    [InlineData("00:00:01", "00:00:04", "00:00:04")]
    [InlineData("00:00:01", "00:00:04", "00:00:04.500")]
    public void Settings_under_which_two_instances_could_push_at_once_are_refused(string renew, string hold, string takeover)
    {
        var options = new ClusterOptions { RenewInterval = TimeSpan.Parse(renew), HoldFor = TimeSpan.Parse(hold), TakeoverAfter = TimeSpan.Parse(takeover) };

        Assert.True(new ClusterOptionsValidator().Validate(null, options).Failed);
        Assert.False(new ClusterOptionsValidator().Validate(null, new ClusterOptions()).Failed);
    }
}
