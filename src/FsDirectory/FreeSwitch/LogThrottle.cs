using Microsoft.Extensions.Options;

namespace FsDirectory.FreeSwitch;

/// <summary>
/// Caps one kind of per-request log line at <see cref="FreeSwitchOptions.RequestLogLinesPerSecond"/>.
/// A SIP scanner sends thousands of REGISTERs or INVITEs a second: a line for each would make the
/// logger the bottleneck (costlier than the answer) and fill the disk. /metrics still counts every
/// request, and the next line written says how many were left out.
/// </summary>
public sealed class LogThrottle(IOptionsMonitor<FreeSwitchOptions> options, TimeProvider time)
{
    private readonly Lock _gate = new();
    private long _second = -1;
    private int _written;
    private long _suppressed;

    /// <summary>Whether a line may be written now; if so, <paramref name="suppressed"/> is how many were left out since the last one.</summary>
    public bool TryWrite(out long suppressed)
    {
        suppressed = 0;
        var limit = options.CurrentValue.RequestLogLinesPerSecond;
        if (limit <= 0)
        {
            return true;
        }

        var second = time.GetTimestamp() / time.TimestampFrequency;
        lock (_gate)
        {
            if (second != _second)
            {
                _second = second;
                _written = 0;
            }

            if (_written >= limit)
            {
                _suppressed++;
                return false;
            }

            _written++;
            suppressed = _suppressed;
            _suppressed = 0;
            return true;
        }
    }
}
