using Microsoft.Extensions.Options;

namespace FsDirectory.Tests.Infrastructure;

/// <summary>Options that never change, for types built without a host.</summary>
public sealed class FixedOptions<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;

    public T Get(string? name) => value;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
