namespace FsDirectory.Directory;

/// <summary>A SIP device that may be answered in the directory (active device, active account).</summary>
public sealed record Device
{
    public required int Id { get; init; }
    public required string Username { get; init; }

    /// <summary>Null only when the device has a stored a1-hash instead.</summary>
    public required string? Password { get; init; }
    public required string? StoredA1Hash { get; init; }

    /// <summary>dir_params without password and a1-hash.</summary>
    public required KeyValuePair<string, string>[] Params { get; init; }

    /// <summary>dir_vars without the variables FsDirectory sets itself.</summary>
    public required KeyValuePair<string, string>[] Variables { get; init; }
    public required string? UserContext { get; init; }
    public required int AccountId { get; init; }
    public required string AccountCode { get; init; }
    public required int ResellerId { get; init; }

    /// <summary>The account is IP-only (accounts.sip_credentials_disabled = 1).</summary>
    public required bool CredentialsDisabled { get; init; }

    /// <summary>Equal in every field, the params and variables compared by content rather than by array.</summary>
    public bool SameAs(Device other) =>
        SameFields(Params, other.Params)
        && SameFields(Variables, other.Variables)
        && Equals(other with { Params = Params, Variables = Variables });

    private static bool SameFields(KeyValuePair<string, string>[] a, KeyValuePair<string, string>[] b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (var i = 0; i < a.Length; i++)
        {
            if (!string.Equals(a[i].Key, b[i].Key, StringComparison.Ordinal) || !string.Equals(a[i].Value, b[i].Value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
