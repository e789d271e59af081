using System.ComponentModel.DataAnnotations;

namespace FsDirectory.Admin;

/// <summary>The admin API (IP settings, explain). Off, and answering 404, until at least one key is configured.</summary>
public sealed class AdminOptions : IValidatableObject
{
    public const string Section = "Admin";

    public List<AdminApiKey> ApiKeys { get; init; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
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
