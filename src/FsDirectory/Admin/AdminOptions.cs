using System.ComponentModel.DataAnnotations;

namespace FsDirectory.Admin;

/// <summary>The admin API (IP settings, explain). Off, and answering 404, until at least one key is configured.</summary>
public sealed class AdminOptions : IValidatableObject
{
    public const string Section = "Admin";

    public const string DemoKeyName = "demo";

    public List<AdminApiKey> ApiKeys { get; init; } = [];

    /// <summary>
    /// A key for the loopback demo that <c>make run</c> provisions: it works like a key without ResellerId
    /// named "demo", is printed at start-up, and the service refuses to start with it on a listener that is
    /// not loopback (<see cref="AdminConsole.LoopbackGuard"/>).
    /// </summary>
    public string? DemoKey { get; init; }

    /// <summary>The configured keys, the demo key included.</summary>
    public IReadOnlyList<AdminApiKey> AllKeys =>
        string.IsNullOrEmpty(DemoKey) ? ApiKeys : [.. ApiKeys, new AdminApiKey { Key = DemoKey, Name = DemoKeyName }];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DemoKey is not null && DemoKey.Length < AdminApiKey.MinimumLength)
        {
            yield return new ValidationResult($"Admin:DemoKey must have at least {AdminApiKey.MinimumLength} characters.", [nameof(DemoKey)]);
        }

        for (var i = 0; i < ApiKeys.Count; i++)
        {
            var key = ApiKeys[i];
            // The key itself is never echoed: only its position and name.
            if (string.IsNullOrWhiteSpace(key.Key) || key.Key.Length < AdminApiKey.MinimumLength)
            {
                yield return new ValidationResult(
                    $"Admin:ApiKeys:{i} ({key.Name}) must have a Key of at least {AdminApiKey.MinimumLength} characters.", [nameof(ApiKeys)]);
            }

            if (string.IsNullOrWhiteSpace(key.Name))
            {
                yield return new ValidationResult($"Admin:ApiKeys:{i} needs a Name (it identifies the caller in logs).", [nameof(ApiKeys)]);
            }

            if (key.ResellerId is < 0)
            {
                yield return new ValidationResult($"Admin:ApiKeys:{i} ({key.Name}) has a negative ResellerId.", [nameof(ApiKeys)]);
            }
        }
    }
}

public sealed class AdminApiKey
{
    public const int MinimumLength = 16;

    public string Key { get; init; } = string.Empty;
    public string Name { get; init; } = string.Empty;

    /// <summary>When set, the key sees and changes only rules of accounts whose <c>accounts.reseller_id</c> is this id.</summary>
    public int? ResellerId { get; init; }
}
