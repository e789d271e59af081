using System.Buffers;
using FsDirectory.Audit;
using FsDirectory.IpAuth;
using FsDirectory.Snapshots;
using MySqlConnector;

namespace FsDirectory.Admin;

/// <summary>
/// Validates and writes IP settings. Every write is one transaction (a refused row leaves nothing behind)
/// and the change feed is applied right after it, so /freeswitch answers reflect it once the response is sent.
/// </summary>
public sealed partial class IpSettingsService(
    AdminWrites writer, IpSettingsStore store, SnapshotHolder snapshots, ILogger<IpSettingsService> logger)
{
    public const int MaxNameLength = 20;
    public const int MaxPrefixLength = 20;
    public const int MaxContextLength = 20;
    public const int MaxPageSize = 500;
    public const int MaxBatch = 10_000;
    public const string DefaultContext = "default";

    private static readonly SearchValues<char> PrefixChars =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz*#+-.");

    public async Task<IpSettingPage> ListAsync(AdminCaller caller, ListQuery query, CancellationToken ct)
    {
        var paging = Paging.Check(query.Page, query.PageSize, 50, MaxPageSize);
        if (query.Status is not (null or 0 or 1))
        {
            throw AdminProblemException.Invalid("status", "status must be 0 (active) or 1 (inactive)");
        }

        if (!IpSettingsStore.IsSortable(query.Sort))
        {
            throw AdminProblemException.Invalid("sort", $"sort must be one of {string.Join(", ", IpSettingsStore.SortKeys)}, optionally with a leading '-' for descending order");
        }

        var (items, total) = await writer.ReadAsync(connection => store.ListAsync(connection, caller, query, paging, ct), ct);
        return new IpSettingPage(items, total, paging.Page, paging.PageSize);
    }

    public async Task<IpSetting> GetAsync(AdminCaller caller, int id, CancellationToken ct) =>
        await writer.ReadAsync(connection => store.GetAsync(connection, null, caller, id, forUpdate: false, ct), ct) ?? throw NotFound(id);

    /// <summary>The rules with these ids that the caller may see (the others are left out, as if they did not exist).</summary>
    public Task<IReadOnlyList<IpSetting>> GetManyAsync(AdminCaller caller, IReadOnlyList<int> ids, CancellationToken ct)
    {
        var distinct = CheckIds(ids);
        return writer.ReadAsync(connection => store.GetManyAsync(connection, caller, distinct, ct), ct);
    }

    public Task<IReadOnlyList<IpSetting>> ExportAsync(AdminCaller caller, CancellationToken ct) =>
        writer.ReadAsync(connection => store.ExportAsync(connection, caller, ct), ct);

    public Task<HashSet<int>> VisibleIdsAsync(AdminCaller caller, CancellationToken ct) =>
        writer.ReadAsync(connection => store.VisibleIdsAsync(connection, caller, ct), ct);

    /// <summary>
    /// Unusable, tied and shadowed rules, read from the current snapshot (what FreeSWITCH is answered
    /// from), scoped to the caller's rules.
    /// </summary>
    public async Task<List<IpSettingProblem>> ProblemsAsync(AdminCaller caller, CancellationToken ct)
    {
        if (snapshots.Current is not { } snapshot)
        {
            throw new AdminProblemException(StatusCodes.Status503ServiceUnavailable, "No data loaded yet.");
        }

        var problems = IpRuleAnalysis.Analyse(snapshot, caller);
        if (caller.ResellerId is not null)
        {
            var visible = await VisibleIdsAsync(caller, ct);
            problems.RemoveAll(p => !visible.Contains(p.RuleId));
        }

        return problems;
    }

    public async Task<IpSetting> CreateAsync(AdminCaller caller, IpSettingInput input, CancellationToken ct)
    {
        var id = await writer.InTransactionAsync(caller, async (connection, transaction, audit) =>
        {
            var values = await ValidateAsync(connection, transaction, caller, input, existingId: null, existingStatus: null, ct);
            var created = await UniqueAsync(connection, transaction, values, () => store.InsertAsync(connection, transaction, values, ct), ct);
            var after = AuditedRule.Of(created, values);
            audit.Add(Record(AuditActions.Create, after, null, after));
            return created;
        }, ct);
        LogWrite(caller.Name, "created", 1, id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return await GetAsync(caller, id, ct);
    }

    public async Task<IpSetting> ReplaceAsync(AdminCaller caller, int id, IpSettingInput input, CancellationToken ct)
    {
        await writer.InTransactionAsync(caller, async (connection, transaction, audit) =>
        {
            var existing = await store.GetAsync(connection, transaction, caller, id, forUpdate: true, ct) ?? throw NotFound(id);
            var values = await ValidateAsync(connection, transaction, caller, input, id, existing.Status, ct);
            await UniqueAsync(connection, transaction, values, async () =>
            {
                await store.UpdateAsync(connection, transaction, id, values, ct);
                return id;
            }, ct);
            var after = AuditedRule.Of(id, values);
            audit.Add(Record(AuditActions.Replace, after, AuditedRule.Of(existing), after));
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
        await writer.InTransactionAsync(caller, async (connection, transaction, audit) =>
        {
            foreach (var rule in await LockAllVisibleAsync(connection, transaction, caller, distinct, ct))
            {
                var before = AuditedRule.Of(rule);
                audit.Add(Record(AuditActions.Delete, before, before, null));
            }

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
        var status = request.Status.Value;
        await writer.InTransactionAsync(caller, async (connection, transaction, audit) =>
        {
            foreach (var rule in await LockAllVisibleAsync(connection, transaction, caller, distinct, ct))
            {
                // Only the status changes; the rule's other values are in its create/replace/import records (and its delete's).
                audit.Add(Record(status == 0 ? AuditActions.Activate : AuditActions.Deactivate, AuditedRule.Of(rule),
                    new AuditedStatus(rule.Status), new AuditedStatus(status)));
            }

            return await store.SetStatusAsync(connection, transaction, distinct, status, ct);
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
        await writer.InTransactionAsync(caller, async (connection, transaction, audit) =>
        {
            created.Clear();
            foreach (var (line, input) in rows)
            {
                try
                {
                    var values = await ValidateAsync(connection, transaction, caller, input, existingId: null, existingStatus: null, ct);
                    var id = await UniqueAsync(connection, transaction, values, () => store.InsertAsync(connection, transaction, values, ct), ct);
                    created.Add(id);
                    var after = AuditedRule.Of(id, values);
                    audit.Add(Record(AuditActions.Import, after, null, after));
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

    private async Task<IReadOnlyList<IpSetting>> LockAllVisibleAsync(MySqlConnection connection, MySqlTransaction transaction, AdminCaller caller, List<int> ids, CancellationToken ct)
    {
        var rules = await store.LockVisibleAsync(connection, transaction, caller, ids, ct);
        var found = rules.Select(static r => r.Id).ToHashSet();
        var missing = ids.Where(id => !found.Contains(id)).ToList();
        if (missing.Count > 0)
        {
            throw new AdminProblemException(StatusCodes.Status404NotFound,
                $"IP setting(s) {string.Join(", ", missing)} not found; nothing was changed", "ids");
        }

        return rules;
    }

    /// <summary>A rule's audit record, under <paramref name="rule"/>'s account: the one it belongs to after the change (before it, for a delete).</summary>
    private static AuditEntry Record(string action, AuditedRule rule, object? before, object? after) => new()
    {
        Entity = AuditEntities.IpSetting,
        EntityId = rule.Id,
        Action = action,
        AccountId = rule.AccountId,
        ResellerId = rule.ResellerId,
        Before = before,
        After = after,
    };

    /// <summary>What activate and deactivate change.</summary>
    private sealed record AuditedStatus(int Status);

    /// <summary>
    /// What the audit trail keeps of a rule: its <c>ip_map</c> values and its account's reseller (names of accounts and
    /// resellers are not the rule's). After a write they are the validated values written, so no row is read back.
    /// </summary>
    private sealed record AuditedRule(int Id, string Name, string Ip, int AccountId, int ResellerId, int SipProfileId, string Prefix, string Context, int Status)
    {
        public static AuditedRule Of(IpSetting rule) =>
            new(rule.Id, rule.Name, rule.Ip, rule.AccountId, rule.ResellerId, rule.SipProfileId, rule.Prefix, rule.Context, rule.Status);

        public static AuditedRule Of(int id, IpSettingValues values) =>
            new(id, values.Name, values.Ip, values.AccountId, values.ResellerId, values.SipProfileId, values.Prefix, values.Context, values.Status);
    }

    /// <summary>
    /// The unique key on <c>ip_map.fsdir_rule_key</c> is the duplicate check that also holds across
    /// Galera nodes, where the read in <see cref="ValidateAsync"/> cannot see a concurrent insert.
    /// </summary>
    private async Task<int> UniqueAsync(MySqlConnection connection, MySqlTransaction transaction, IpSettingValues values, Func<Task<int>> write, CancellationToken ct)
    {
        try
        {
            return await write();
        }
        catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
        {
            var otherId = await store.FindByRuleKeyAsync(connection, transaction, values.RuleKey, ct);
            throw Duplicate(otherId, values.Ip, values.Prefix, values.SipProfileId);
        }
    }

    private static AdminProblemException Duplicate(int? otherId, string network, string prefix, int sipProfileId) =>
        new(StatusCodes.Status409Conflict,
            $"IP setting {otherId} already has network {network}, prefix '{prefix}' and sip profile {sipProfileId}",
            "ip", existingId: otherId);

    private static AdminProblemException NotFound(int id) =>
        new(StatusCodes.Status404NotFound, $"IP setting {id} not found", "id");

    private async Task<IpSettingValues> ValidateAsync(
        MySqlConnection connection, MySqlTransaction transaction, AdminCaller caller, IpSettingInput input,
        int? existingId, int? existingStatus, CancellationToken ct)
    {
        var name = AdminValidation.Name(input.Name, MaxNameLength);
        var network = AdminValidation.Network(input.Ip);

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

        var status = AdminValidation.Status(input.Status ?? existingStatus);

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

        var sipProfileId = await AdminValidation.SipProfileIdAsync(connection, transaction, input.SipProfileId, "the global default", ct);

        // The column is case-insensitive; prefixes are matched case-sensitively, so compare in memory.
        foreach (var (otherId, otherIp, otherPrefix) in await store.SamePrefixAsync(connection, transaction, prefix, sipProfileId, ct))
        {
            if (otherId != existingId && string.Equals(otherPrefix, prefix, StringComparison.Ordinal)
                && IpNetwork.TryParse(otherIp, out var otherNetwork, out _) && otherNetwork.Value == network)
            {
                throw Duplicate(otherId, network.ToString(), prefix, sipProfileId);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin API: {Caller} {Action} {Count} IP setting(s): {Ids}")]
    private partial void LogWrite(string caller, string action, int count, string ids);
}
