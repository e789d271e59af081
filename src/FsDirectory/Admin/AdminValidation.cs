using System.Buffers;
using System.Data.Common;
using Dapper;
using FsDirectory.IpAuth;

namespace FsDirectory.Admin;

/// <summary>Checks shared by the admin API's resources (IP settings, trusted proxies): the same rules, messages and fields everywhere.</summary>
public static class AdminValidation
{
    private static readonly SearchValues<char> HostnameChars =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-");

    /// <summary>A required, trimmed name of at most <paramref name="maxLength"/> characters, without control characters.</summary>
    public static string Name(string? value, int maxLength)
    {
        var name = value?.Trim() ?? string.Empty;
        if (name.Length == 0)
        {
            throw AdminProblemException.Invalid("name", "name is required");
        }

        if (name.Length > maxLength)
        {
            throw AdminProblemException.Invalid("name", $"name is {name.Length} characters long; at most {maxLength} are allowed");
        }

        if (name.Any(char.IsControl))
        {
            throw AdminProblemException.Invalid("name", "name must not contain control characters");
        }

        return name;
    }

    /// <summary>An IPv4 or IPv6 address or CIDR in canonical form (field <c>ip</c>); hostnames are named as such, never resolved.</summary>
    public static IpNetwork Network(string? text)
    {
        var ip = text?.Trim() ?? string.Empty;
        if (ip.Length == 0)
        {
            throw AdminProblemException.Invalid("ip", "ip is required");
        }

        if (IpNetwork.TryParse(ip, out var network, out var error))
        {
            return network.Value;
        }

        if (ip.Length <= 253 && !ip.AsSpan().ContainsAnyExcept(HostnameChars) && ip.Any(char.IsAsciiLetter))
        {
            throw AdminProblemException.Invalid("ip", $"ip '{ip}' is a hostname; hostnames are not resolved: give an IPv4 or IPv6 address or CIDR network");
        }

        throw AdminProblemException.Invalid("ip", $"ip '{Shorten(ip)}' is not an IPv4 or IPv6 address or CIDR network: {error}");
    }

    public static int Status(int? value)
    {
        var status = value ?? 0;
        return status is 0 or 1 ? status : throw AdminProblemException.Invalid("status", "status must be 0 (active) or 1 (inactive)");
    }

    private const string ProfileStatusSql = "SELECT status FROM sip_profiles WHERE id = @id";

    /// <summary>0 (whose meaning <paramref name="zeroMeans"/> names) or an existing, active <c>sip_profiles</c> id.</summary>
    public static async Task<int> SipProfileIdAsync(DbConnection connection, DbTransaction transaction, int? value, string zeroMeans, CancellationToken ct)
    {
        var id = value ?? 0;
        if (id < 0)
        {
            throw AdminProblemException.Invalid("sipProfileId", $"sipProfileId must be 0 ({zeroMeans}) or a sip_profiles id");
        }

        if (id == 0)
        {
            return id;
        }

        var status = await connection.QuerySingleOrDefaultAsync<int?>(new CommandDefinition(ProfileStatusSql, new { id }, transaction, cancellationToken: ct));
        return status switch
        {
            null => throw AdminProblemException.Invalid("sipProfileId", $"sip profile {id} does not exist"),
            not 0 => throw AdminProblemException.Invalid("sipProfileId", $"sip profile {id} is inactive"),
            _ => id,
        };
    }

    public static string Shorten(string value) => value.Length > 64 ? value[..64] + "…" : value;
}
