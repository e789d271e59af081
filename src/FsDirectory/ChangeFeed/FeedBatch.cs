using FsDirectory.Database;

namespace FsDirectory.ChangeFeed;

/// <summary>Change-feed rows grouped by what they name: account, rule and device ids, and whether a profile table changed.</summary>
public sealed class FeedBatch
{
    public HashSet<int> Accounts { get; } = [];

    public HashSet<int> Rules { get; } = [];

    public HashSet<int> Devices { get; } = [];

    /// <summary>A row of one of <see cref="DirectoryTables.ReadWhole"/> changed: they are read whole.</summary>
    public bool ProfileTables { get; private set; }

    /// <summary>A table this version does not know how to apply (a newer migration's), if any.</summary>
    public string? UnknownTable { get; private set; }

    public static FeedBatch Of(IEnumerable<FeedRow> rows)
    {
        var batch = new FeedBatch();
        foreach (var row in rows)
        {
            switch (row.TableName)
            {
                case DirectoryTables.Accounts:
                    batch.Accounts.Add((int)row.RowId);
                    break;
                case DirectoryTables.IpMap:
                    batch.Rules.Add((int)row.RowId);
                    break;
                case DirectoryTables.SipDevices:
                    batch.Devices.Add((int)row.RowId);
                    break;
                case var table when DirectoryTables.ReadWhole.Contains(table):
                    batch.ProfileTables = true;
                    break;
                default:
                    batch.UnknownTable ??= row.TableName;
                    break;
            }
        }

        return batch;
    }
}
