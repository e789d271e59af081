using BenchmarkDotNet.Attributes;
using FsDirectory.ChangeFeed;

namespace FsDirectory.Benchmarks;

/// <summary>
/// Applying rows already read to a live snapshot (<see cref="SnapshotPatcher.Apply"/>): the part of an
/// edit that grows with the data. The database reads and the poll interval come on top (make bench).
/// </summary>
public class PatchBenchmarks
{
    private Snapshot _snapshot = null!;
    private SnapshotPatcher _patcher = null!;
    private RowChanges _oneRule = null!;
    private RowChanges _oneDevice = null!;
    private RowChanges _tenThousandRules = null!;

    [Params(100_000, 1_000_000)]
    public int Rules { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var data = BenchData.Rows(BenchData.Rules(Rules, RuleFamily.Mixed), devices: 100_000);
        _snapshot = new SnapshotBuilder(new FixedOptions<FsDirectory.FreeSwitch.FreeSwitchOptions>(new()), TimeProvider.System).Build(data, 1);
        _patcher = new SnapshotPatcher(TimeProvider.System);
        var rows = data.IpRules!.ToList();
        RowChanges Changes(IEnumerable<IpMapRow> rules, IEnumerable<SipDeviceRow> devices, IEnumerable<string> usernames) =>
            new(_snapshot.Accounts, _snapshot.ProfileState, rules.ToDictionary(r => r.Id, r => (IpMapRow?)r),
                devices.ToDictionary(d => d.Id, d => (SipDeviceRow?)d), usernames.ToHashSet(StringComparer.Ordinal));

        _oneRule = Changes([rows[Rules / 2] with { Prefix = "5551*" }], [], []);
        _tenThousandRules = Changes(rows.Skip(Rules / 3).Take(10_000).Select(r => r with { Status = 1 }), [], []);
        var device = data.Devices![500] with { DirParams = """{"password":"changed"}""" };
        _oneDevice = Changes([], [device], [device.Username!]);
    }

    [Benchmark]
    public long One_rule() => _patcher.Apply(_snapshot, _oneRule, FeedPosition.Start, 2).Snapshot!.Version;

    [Benchmark]
    public long One_device() => _patcher.Apply(_snapshot, _oneDevice, FeedPosition.Start, 2).Snapshot!.Version;

    [Benchmark]
    public long Ten_thousand_rules() => _patcher.Apply(_snapshot, _tenThousandRules, FeedPosition.Start, 2).Snapshot!.Version;
}
