
namespace FsDirectory.Snapshots;

/// <summary>
/// Builds a cached whole-document answer before a snapshot goes live, so the switches' fetches after a
/// <c>reloadacl</c> push are served from memory at once, and the build's garbage is gone before the
/// snapshot is (see <see cref="SnapshotReloader"/>).
/// </summary>
public interface ISnapshotWarmer
{
    void Warm(Snapshot snapshot);
}
