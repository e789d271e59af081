using System.ComponentModel.DataAnnotations;

namespace FsDirectory.AdminConsole;

/// <summary>The admin console (/console). It is on when the admin API is (Admin:ApiKeys or Admin:DemoKey has a key), unless <see cref="Enabled"/> is false.</summary>
public sealed class ConsoleOptions : IValidatableObject
{
    public const string Section = "Console";

    /// <summary>False: /console answers 404 even with admin keys configured (the JSON API stays on).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>A session ends after this long without a request (the cookie is renewed while in use).</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// <see cref="ConsoleCookieSecurity.SameAsRequest"/>: the session cookie is Secure when the request came over HTTPS.
    /// <see cref="ConsoleCookieSecurity.Always"/>: always Secure, for a TLS-terminating proxy in front of plain HTTP.
    /// </summary>
    public ConsoleCookieSecurity CookieSecurity { get; init; } = ConsoleCookieSecurity.SameAsRequest;

    /// <summary>
    /// Where the keys that encrypt session cookies are kept. Unset: ASP.NET Core's default (~/.aspnet/DataProtection-Keys).
    /// Several instances behind one address share a directory here, so a session started on one is valid on all.
    /// </summary>
    public string? DataProtectionKeysPath { get; init; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SessionTimeout < TimeSpan.FromMinutes(1) || SessionTimeout > TimeSpan.FromDays(7))
        {
            yield return new ValidationResult("Console:SessionTimeout must be between 00:01:00 and 7.00:00:00.", [nameof(SessionTimeout)]);
        }

        if (!Enum.IsDefined(CookieSecurity))
        {
            yield return new ValidationResult("Console:CookieSecurity must be SameAsRequest or Always.", [nameof(CookieSecurity)]);
        }

        if (DataProtectionKeysPath is not null && (DataProtectionKeysPath.Trim().Length == 0 || !Path.IsPathFullyQualified(DataProtectionKeysPath)))
        {
            yield return new ValidationResult("Console:DataProtectionKeysPath must be an absolute directory path.", [nameof(DataProtectionKeysPath)]);
        }
    }
}

public enum ConsoleCookieSecurity
{
    SameAsRequest,
    Always,
}
