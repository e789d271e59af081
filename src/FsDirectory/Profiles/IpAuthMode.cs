namespace FsDirectory.Profiles;

/// <summary>
/// How a SIP profile lets IP-authenticated calls in (<c>sip_profiles.fsdir_ip_auth_mode</c>, migration 008).
/// </summary>
public enum IpAuthMode
{
    /// <summary>
    /// <c>acl</c>, the default: <c>auth-calls=true</c> and <c>apply-inbound-acl</c> naming the profile's
    /// acl.conf list of customer addresses, so sofia lets listed sources in and challenges every other
    /// caller; the dialplan answer then picks the account. The switch parses and scans that list on
    /// every <c>reloadacl</c> and every call, so its cost grows with the customers.
    /// </summary>
    Acl,

    /// <summary>
    /// <c>dialplan</c>: <c>auth-calls=false</c> and no customer list. Every INVITE reaches the dialplan
    /// fetch, and the dialplan answer is the gatekeeper: a source without a usable rule gets
    /// <c>respond 403</c>, whatever the context (see <see cref="IpAuth.DialplanAnswers"/>). Nothing about
    /// the customers is in the switch, so a rule change needs no <c>reloadacl</c> at all.
    /// </summary>
    Dialplan,
}

public static class IpAuthModes
{
    public const string AclText = "acl";
    public const string DialplanText = "dialplan";

    /// <summary>The column's value, trimmed and in any letter case; false for anything else.</summary>
    public static bool TryParse(string? text, out IpAuthMode mode)
    {
        var value = text?.Trim() ?? string.Empty;
        if (value.Length == 0 || value.Equals(AclText, StringComparison.OrdinalIgnoreCase))
        {
            mode = IpAuthMode.Acl;
            return true;
        }

        if (value.Equals(DialplanText, StringComparison.OrdinalIgnoreCase))
        {
            mode = IpAuthMode.Dialplan;
            return true;
        }

        mode = IpAuthMode.Acl;
        return false;
    }

    public static string ToText(this IpAuthMode mode) => mode == IpAuthMode.Dialplan ? DialplanText : AclText;
}
