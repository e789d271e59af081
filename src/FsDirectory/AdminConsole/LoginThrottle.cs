using System.Collections.Concurrent;
using System.Net;

namespace FsDirectory.AdminConsole;

/// <summary>
/// Refused keys per client address: after <see cref="MaxFailures"/> in <see cref="Window"/>, that address may not
/// try again until the window ends. Keys are long random strings, so this is about noise in the logs and
/// load, not guessing odds; successful sign-ins never count.
/// </summary>
public sealed class LoginThrottle(TimeProvider time)
{
    public const int MaxFailures = 10;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);
    private const int MaxTracked = 10_000;

    private readonly ConcurrentDictionary<IPAddress, (int Count, DateTimeOffset Since)> _failures = new();

    public bool IsBlocked(IPAddress? client) =>
        client is not null && _failures.TryGetValue(client, out var entry) && entry.Count >= MaxFailures && time.GetUtcNow() - entry.Since < Window;

    public void Failed(IPAddress? client)
    {
        if (client is null)
        {
            return;
        }

        var now = time.GetUtcNow();
        if (_failures.Count > MaxTracked)
        {
            foreach (var (address, entry) in _failures.Where(e => now - e.Value.Since >= Window))
            {
                _failures.TryRemove(address, out _);
            }
        }

        _failures.AddOrUpdate(client, (1, now), (_, entry) => now - entry.Since >= Window ? (1, now) : (entry.Count + 1, entry.Since));
    }
}
