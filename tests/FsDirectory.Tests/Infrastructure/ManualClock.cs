namespace FsDirectory.Tests.Infrastructure;

/// <summary>A clock that moves only when a test moves it (milliseconds as timestamps).</summary>
public sealed class ManualClock : TimeProvider
{
    public long Ticks { get; set; }

    public override long TimestampFrequency => 1_000;

    public override long GetTimestamp() => Ticks;

    public void Advance(TimeSpan by) => Ticks += (long)by.TotalMilliseconds;
}
