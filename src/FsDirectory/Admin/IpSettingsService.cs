using System.Buffers;
using System.Data;
using FsDirectory.Data;
using FsDirectory.IpAuth;
using MySqlConnector;

namespace FsDirectory.Admin;

/// <summary>
/// Validates and writes IP settings. Every write is one transaction (a refused row leaves nothing behind)
/// and the change feed is applied right after it, so /freeswitch answers reflect it once the response is sent.
/// </summary>
public sealed partial class IpSettingsService(
    MySqlDataSource dataSource, IpSettingsStore store, SnapshotReloader reloader, ILogger<IpSettingsService> logger)
{
    public const int MaxNameLength = 20;
    public const int MaxPrefixLength = 20;
    public const int MaxContextLength = 20;
    public const int MaxPageSize = 500;
    public const int MaxBatch = 10_000;
    public const string DefaultContext = "default";

    private static readonly SearchValues<char> PrefixChars =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz*#+-.");

    private static readonly SearchValues<char> HostnameChars =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-");

    public async Task<IpSettingPage> ListAsync(AdminCaller caller, ListQuery query, CancellationToken ct)
    {
        var page = query.Page ?? 1;
        var pageSize = query.PageSize ?? 50;
        if (page < 1)
        {
            throw AdminProblemException.Invalid("page", "page must be 1 or more");
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            throw AdminProblemException.Invalid("pageSize", $"pageSize must be between 1 and {MaxPageSize}");
        }

        if (query.Status is not (null or 0 or 1))
        {
            throw AdminProblemException.Invalid("status", "status must be 0 (active) or 1 (inactive)");
        }

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var (items, total) = await store.ListAsync(connection, caller, query, page, pageSize, ct);
        return new IpSettingPage(items, total, page, pageSize);
    }

    public async Task<IpSetting> GetAsync(AdminCaller caller, int id, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await store.GetAsync(connection, null, caller, id, forUpdate: false, ct) ?? throw NotFound(id);
    }

    public async Task<IReadOnlyList<IpSetting>> ExportAsync(AdminCaller caller, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await store.ExportAsync(connection, caller, ct);
    }

    public async Task<HashSet<int>> VisibleIdsAsync(AdminCaller caller, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await store.VisibleIdsAsync(connection, caller, ct);
    }

    public async Task<IpSetting> CreateAsync(AdminCaller caller, IpSettingInput input, CancellationToken ct)
    {
        var id = await WriteAsync(async (connection, transaction) =>
        {
            var values = await ValidateAsync(connection, transaction, caller, input, existingId: null, existingStatus: null, ct);
            return await store.InsertAsync(connection, transaction, values, ct);
        }, ct);
        LogWrite(caller.Name, "created", 1, id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return await GetAsync(caller, id, ct);
    }

    public async Task<IpSetting> ReplaceAsync(AdminCaller caller, int id, IpSettingInput input, CancellationToken ct)
    {
        await WriteAsync(async (connection, transaction) =>
        {
            var existing = await store.GetAsync(connection, transaction, caller, id, forUpdate: true, ct) ?? throw NotFound(id);
            var values = await ValidateAsync(connection, transaction, caller, input, id, existing.Status, ct);
            await store.UpdateAsync(connection, transaction, id, values, ct);
            return id;
        }, ct);
        LogWrite(caller.Name, "replaced", 1, id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return await GetAsync(caller, id, ct);
    }

    public async Task DeleteAsync(AdminCaller caller, int id, CancellationToken ct) =>
        await DeleteManyAsync(caller, [id], ct);

    public async Task<BulkResult> DeleteManyAsync(AdminCaller caller, IReadOnlyList<int>? ids, CancellationToken ct)
    {
        var distinct = CheckIds(ids);
        await WriteAsync(async (connection, transaction) =>
        {
            await LockAllVisibleAsync(connection, transaction, caller, distinct, ct);
            return await store.DeleteAsync(connection, transaction, distinct, ct);
        }, ct);
        LogWrite(caller.Name, "deleted", distinct.Count, string.Join(',', distinct));
        return new BulkResult(distinct.Count, distinct);
    }

    public async Task<BulkResult> SetStatusAsync(AdminCaller caller, StatusRequest request, CancellationToken ct)
    {
        if (request.Status is not (0 or 1))
        {
            throw AdminProblemException.Invalid("status", "status must be 0 (active) or 1 (inactive)");
        }

        var distinct = CheckIds(request.Ids);
        await WriteAsync(async (connection, transaction) =>
        {
            await LockAllVisibleAsync(connection, transaction, caller, distinct, ct);
            return await store.SetStatusAsync(connection, transaction, distinct, request.Status.Value, ct);
        }, ct);
        LogWrite(caller.Name, request.Status == 0 ? "activated" : "deactivated", distinct.Count, string.Join(',', distinct));
        return new BulkResult(distinct.Count, distinct);
    }

    /// <summary>Creates every row of the batch or none; a refused row is reported with its CSV line number.</summary>
    public async Task<BulkResult> ImportAsync(AdminCaller caller, IReadOnlyList<(int Line, IpSettingInput Input)> rows, CancellationToken ct)
    {
        if (rows.Count == 0)
        {
            throw AdminProblemException.Invalid("csv", "the CSV has no data lines");
        }

        if (rows.Count > MaxBatch)
        {
            throw AdminProblemException.Invalid("csv", $"at most {MaxBatch} lines per import");
        }

        var created = new List<int>(rows.Count);
        await WriteAsync(async (connection, transaction) =>
        {
            foreach (var (line, input) in rows)
            {
                try
                {
                    var values = await ValidateAsync(connection, transaction, caller, input, existingId: null, existingStatus: null, ct);
                    created.Add(await store.InsertAsync(connection, transaction, values, ct));
                }
                catch (AdminProblemException problem)
                {
                    throw problem.AtLine(line);
                }
            }

            return created.Count;
        }, ct);
        LogWrite(caller.Name, "imported", created.Count, created.Count == 0 ? string.Empty : $"{created[0]}..{created[^1]}");
        return new BulkResult(created.Count, created);
    }

    private static List<int> CheckIds(IReadOnlyList<int>? ids)
    {
        if (ids is null || ids.Count == 0)
        {
            throw AdminProblemException.Invalid("ids", "ids must list at least one rule id");
        }

        if (ids.Count > MaxBatch)
        {
            throw AdminProblemException.Invalid("ids", $"at most {MaxBatch} ids per request");
        }

        return [.. ids.Distinct().Order()];
    }

    private async Task LockAllVisibleAsync(MySqlConnection connection, MySqlTransaction transaction, AdminCaller caller, List<int> ids, CancellationToken ct)
    {
        var found = (await store.LockVisibleAsync(connection, transaction, caller, ids, ct)).ToHashSet();
        var missing = ids.Where(id => !found.Contains(id)).ToList();
        if (missing.Count > 0)
        {
            throw new AdminProblemException(StatusCodes.Status404NotFound,
                $"IP setting(s) {string.Join(", ", missing)} not found; nothing was changed", "ids");
        }
    }

    private async Task<T> WriteAsync<T>(Func<MySqlConnection, MySqlTransaction, Task<T>> work, CancellationToken ct)
    {
        T result;
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        {
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
            result = await work(connection, transaction);
            await transaction.CommitAsync(ct);
        }

        // The triggers wrote the rows to the change feed; applying it now makes our own answers current before we reply.
        await reloader.ReloadIfChangedAsync(force: true, ct);
        return result;
    }

    private static AdminProblemException NotFound(int id) =>
        new(StatusCodes.Status404NotFound, $"IP setting {id} not found", "id");

    private async Task<IpSettingValues> ValidateAsync(
        MySqlConnection connection, MySqlTransaction transaction, AdminCaller caller, IpSettingInput input,
        int? existingId, int? existingStatus, CancellationToken ct)
    {
        var name = input.Name?.Trim() ?? string.Empty;
        if (name.Length == 0)
        {
            throw AdminProblemException.Invalid("name", "name is required");
        }

        if (name.Length > MaxNameLength)
        {
            throw AdminProblemException.Invalid("name", $"name is {name.Length} characters long; at most {MaxNameLength} are allowed");
        }

        if (name.Any(char.IsControl))
        {
            throw AdminProblemException.Invalid("name", "name must not contain control characters");
        }

        var network = ParseIp(input.Ip);

        var prefix = input.Prefix?.Trim() ?? string.Empty;
        if (prefix.Length > MaxPrefixLength)
        {
            throw AdminProblemException.Invalid("prefix", $"prefix is {prefix.Length} characters long; at most {MaxPrefixLength} are allowed");
        }

        if (prefix.AsSpan().IndexOfAnyExcept(PrefixChars) is var bad and >= 0)
        {
            throw AdminProblemException.Invalid("prefix", $"prefix '{prefix}' has the character '{prefix[bad]}'; only 0-9 A-Z a-z * # + - . are allowed");
        }

        var context = string.IsNullOrWhiteSpace(input.Context) ? DefaultContext : input.Context.Trim();
        if (context.Length > MaxContextLength || !DialString.IsValidToken(context))
        {
            throw AdminProblemException.Invalid("context", $"context '{context}' must be 1-{MaxContextLength} characters of A-Z a-z 0-9 . _ -");
        }

        var status = input.Status ?? existingStatus ?? 0;
        if (status is not (0 or 1))
        {
            throw AdminProblemException.Invalid("status", "status must be 0 (active) or 1 (inactive)");
        }

        if (input.AccountId is not { } accountId)
        {
            throw AdminProblemException.Invalid("accountId", "accountId is required");
        }

        var account = await store.FindAccountAsync(connection, transaction, accountId, ct);
        // A reseller key is told "does not exist" for other resellers' accounts, as it is for their rules.
        if (account is null || !caller.CanSee(account.ResellerId))
        {
            throw AdminProblemException.Invalid("accountId", $"account {accountId} does not exist");
        }

        if (account.Deleted != 0)
        {
            throw AdminProblemException.Invalid("accountId", $"account {accountId} is deleted");
        }

        if ((account.Type ?? 0) is not (0 or 3))
        {
            throw AdminProblemException.Invalid("accountId",
                $"account {accountId} is a{(account.Type == 1 ? " reseller" : account.Type == 2 ? "n admin" : $" type {account.Type}")} account; IP settings belong to customers (type 0) or providers (type 3)");
        }

        var accountReseller = account.ResellerId ?? 0;
        if (input.ResellerId is { } resellerId && resellerId != accountReseller)
        {
            throw AdminProblemException.Invalid("resellerId", $"account {accountId} belongs to reseller {accountReseller}, not to reseller {resellerId}");
        }

        var sipProfileId = input.SipProfileId ?? 0;
        if (sipProfileId < 0)
        {
            throw AdminProblemException.Invalid("sipProfileId", "sipProfileId must be 0 (the global default) or a sip_profiles id");
        }

        if (sipProfileId != 0)
        {
            var profileStatus = await store.ProfileStatusAsync(connection, transaction, sipProfileId, ct);
            if (profileStatus is null)
            {
                throw AdminProblemException.Invalid("sipProfileId", $"sip profile {sipProfileId} does not exist");
            }

            if (profileStatus != 0)
            {
                throw AdminProblemException.Invalid("sipProfileId", $"sip profile {sipProfileId} is inactive");
            }
        }

        // The column is case-insensitive; prefixes are matched case-sensitively, so compare in memory.
        foreach (var (otherId, otherIp, otherPrefix) in await store.SamePrefixAsync(connection, transaction, prefix, sipProfileId, ct))
        {
            if (otherId != existingId && string.Equals(otherPrefix, prefix, StringComparison.Ordinal)
                && IpNetwork.TryParse(otherIp, out var otherNetwork, out _) && otherNetwork.Value == network)
            {
                throw new AdminProblemException(StatusCodes.Status409Conflict,
                    $"IP setting {otherId} already has network {network}, prefix '{prefix}' and sip profile {sipProfileId}",
                    "ip", existingId: otherId);
            }
        }

        return new IpSettingValues
        {
            Name = name,
            Ip = network.ToString(),
            AccountId = accountId,
            ResellerId = accountReseller,
            SipProfileId = sipProfileId,
            Prefix = prefix,
            Context = context,
            Status = status,
        };
    }

    private static IpNetwork ParseIp(string? text)
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

    private static string Shorten(string value) => value.Length > 64 ? value[..64] + "…" : value;

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin API: {Caller} {Action} {Count} IP setting(s): {Ids}")]
    private partial void LogWrite(string caller, string action, int count, string ids);
}
