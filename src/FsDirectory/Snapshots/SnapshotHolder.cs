
namespace FsDirectory.Snapshots;

/// <summary>The current snapshot, swapped atomically. Readers take one reference per request.</summary>
public sealed class SnapshotHolder
{
    private Snapshot? _current;

    public Snapshot? Current => Volatile.Read(ref _current);

    /// <summary>Raised after a swap with the previous snapshot (null on the first load) and the new one.</summary>
    public event Action<Snapshot?, Snapshot>? Swapped;

    public void Swap(Snapshot next)
    {
        var previous = Interlocked.Exchange(ref _current, next);
        Swapped?.Invoke(previous, next);
    }
}
