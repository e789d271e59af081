using FsDirectory.Audit;
using FsDirectory.Database;
using FsDirectory.IpAuth;
using FsDirectory.Proxies;
using FsDirectory.Snapshots;
using MySqlConnector;

namespace FsDirectory.Admin;

/// <summary>Validates and writes trusted SIP proxies (an operator setting: see <see cref="AdminAccess.RequireOperatorKey"/>).</summary>
public sealed partial class TrustedProxiesService(
    DatabaseConnector database, TrustedProxiesStore store, AdminWrites writes, SnapshotHolder snapshots, ILogger<TrustedProxiesService> logger)
{
    public const int MaxNameLength = 64;

    public async Task<IReadOnlyList<TrustedProxySetting>> ListAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var problems = Problems();
        return [.. (await store.ListAsync(connection, ct)).Select(p => WithProblem(p, problems))];
    }

    public async Task<TrustedProxySetting> GetAsync(int id, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var proxy = await store.GetAsync(connection, null, id, forUpdate: false, ct) ?? throw NotFound(id);
        return WithProblem(proxy, Problems());
    }

    public async Task<TrustedProxySetting> CreateAsync(AdminCaller caller, TrustedProxyInput input, CancellationToken ct)
    {
        var id = await WriteAsync(caller, async (connection, transaction, audit) =>
        {
            var values = await ValidateAsync(connection, transaction, input, existingId: null, existingStatus: null, ct);
            var created = await store.InsertAsync(connection, transaction, values, ct);
            audit.Add(Record(AuditActions.Create, created, null, await store.GetAsync(connection, transaction, created, forUpdate: false, ct)));
            return created;
        }, ct);
        LogWrite(caller.Name, "created", id);
        return await GetAsync(id, ct);
    }

    public async Task<TrustedProxySetting> ReplaceAsync(AdminCaller caller, int id, TrustedProxyInput input, CancellationToken ct)
    {
        await WriteAsync(caller, async (connection, transaction, audit) =>
        {
            var existing = await store.GetAsync(connection, transaction, id, forUpdate: true, ct) ?? throw NotFound(id);
            var values = await ValidateAsync(connection, transaction, input, id, existing.Status, ct);
            await store.UpdateAsync(connection, transaction, id, values, ct);
            audit.Add(Record(AuditActions.Replace, id, existing, await store.GetAsync(connection, transaction, id, forUpdate: false, ct)));
            return id;
        }, ct);
        LogWrite(caller.Name, "replaced", id);
        return await GetAsync(id, ct);
    }

    public async Task DeleteAsync(AdminCaller caller, int id, CancellationToken ct)
    {
        await WriteAsync(caller, async (connection, transaction, audit) =>
        {
            var existing = await store.GetAsync(connection, transaction, id, forUpdate: true, ct) ?? throw NotFound(id);
            await store.DeleteAsync(connection, transaction, id, ct);
            audit.Add(Record(AuditActions.Delete, id, existing, null));
            return id;
        }, ct);
        LogWrite(caller.Name, "deleted", id);
    }

    private async Task<int> WriteAsync(AdminCaller caller, Func<MySqlConnection, MySqlTransaction, AuditRecords, Task<int>> work, CancellationToken ct)
    {
        try
        {
            return await writes.InTransactionAsync(caller, work, ct);
        }
        catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
        {
            // The in-transaction check normally answers first; this is a concurrent write (or a Galera peer) winning the race.
            throw new AdminProblemException(StatusCodes.Status409Conflict, "another trusted proxy with the same ip and sipProfileId was just written", "ip");
        }
    }

    private async Task<TrustedProxyValues> ValidateAsync(
        MySqlConnection connection, MySqlTransaction transaction, TrustedProxyInput input, int? existingId, int? existingStatus, CancellationToken ct)
    {
        var name = AdminValidation.Name(input.Name, MaxNameLength);
        var network = AdminValidation.Network(input.Ip);
        if (TrustedProxy.RefuseNetwork(network) is { } refused)
        {
            throw AdminProblemException.Invalid("ip", $"ip {refused}; list the proxies' own addresses");
        }

        var status = AdminValidation.Status(input.Status ?? existingStatus);
        var sipProfileId = await AdminValidation.SipProfileIdAsync(connection, transaction, input.SipProfileId, "every profile", ct);
        foreach (var (otherId, otherIp) in await store.SameProfileAsync(connection, transaction, sipProfileId, ct))
        {
            if (otherId != existingId && IpNetwork.TryParse(otherIp, out var other, out _) && other.Value == network)
            {
                throw new AdminProblemException(StatusCodes.Status409Conflict,
                    $"trusted proxy {otherId} already has network {network} and sip profile {sipProfileId}", "ip", existingId: otherId);
            }
        }

        return new TrustedProxyValues { Name = name, Ip = network.ToString(), SipProfileId = sipProfileId, Status = status };
    }

    /// <summary>The served snapshot's reasons for the rows it could not use, by id.</summary>
    private Dictionary<long, string> Problems() =>
        (snapshots.Current?.Problems ?? [])
            .Where(static p => p.Table == TrustedProxies.Table)
            .GroupBy(static p => p.RowId)
            .ToDictionary(static g => g.Key, static g => g.First().Problem);

    private static TrustedProxySetting WithProblem(TrustedProxySetting proxy, Dictionary<long, string> problems) =>
        proxy.Status == 0 && problems.TryGetValue(proxy.Id, out var problem) ? proxy with { Problem = problem } : proxy;

    /// <summary>A proxy's audit record; no account or reseller: a proxy vouches for every reseller, reseller keys never see it.</summary>
    private static AuditEntry Record(string action, int id, TrustedProxySetting? before, TrustedProxySetting? after) => new()
    {
        Entity = AuditEntities.TrustedProxy,
        EntityId = id,
        Action = action,
        Before = before,
        After = after,
    };

    private static AdminProblemException NotFound(int id) =>
        new(StatusCodes.Status404NotFound, $"trusted proxy {id} not found", "id");

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin API: {Caller} {Action} trusted proxy {Id}")]
    private partial void LogWrite(string caller, string action, int id);
}
