using System.ComponentModel.DataAnnotations;

namespace FsDirectory.FreeSwitch;

public enum PasswordMode
{
    /// <summary>Send <c>a1-hash</c> = md5(user:domain:password): no plaintext password leaves the service.</summary>
    A1Hash,

    /// <summary>Send the plaintext <c>password</c>, for deployments whose digest realm differs from the domain.</summary>
    Plaintext,
}

public sealed class FreeSwitchOptions
{
    public const string Section = "FreeSwitch";
    private const string TokenPattern = "^[A-Za-z0-9._-]{1,64}$";

    /// <summary><c>user_context</c> for devices whose dir_vars set none.</summary>
    [Required, RegularExpression(TokenPattern)]
    public string DefaultUserContext { get; set; } = "default";

    /// <summary>Where IP-authenticated calls are transferred when their rule has no context.</summary>
    [Required, RegularExpression(TokenPattern)]
    public string DefaultRoutingContext { get; set; } = "default";

    /// <summary>Dialplan contexts answered with IP authentication; empty = all. Others get <c>not found</c> (static XML).</summary>
    public List<string> ServedContexts { get; set; } = [];

    public PasswordMode PasswordMode { get; set; } = PasswordMode.A1Hash;

    /// <summary>Largest accepted request body; FreeSWITCH's dialplan posts are 6-7 KB.</summary>
    [Range(16 * 1024, 16 * 1024 * 1024)]
    public int MaxRequestBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest number of form fields; a dialplan post carries every channel variable (hundreds with many SIP headers).</summary>
    [Range(64, 65536)]
    public int MaxFields { get; set; } = 4096;

    /// <summary>
    /// Most lines per second for each kind of per-request line (unknown device, rejected call); the
    /// rest are counted in /metrics and summed up in the next line written. 0 = no limit.
    /// </summary>
    [Range(0, 100_000)]
    public int RequestLogLinesPerSecond { get; set; } = 20;
}
