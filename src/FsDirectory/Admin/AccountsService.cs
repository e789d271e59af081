using FsDirectory.Audit;

namespace FsDirectory.Admin;

/// <summary>An account as the admin API shows it. <see cref="IpOnly"/> is <c>accounts.sip_credentials_disabled</c>: its devices can never authenticate by password.</summary>
public sealed record AccountSummary(int Id, string? Number, string? Name, int ResellerId, int Type, int Status, bool IpOnly)
{
    public static AccountSummary From(AccountRecord row) =>
        new(row.Id, row.Number, row.Name, row.ResellerId, row.Type, row.Status, row.SipCredentialsDisabled != 0);
}

public sealed record AccountPage(IReadOnlyList<AccountSummary> Items, long Total, int Page, int PageSize);

public sealed record AccountQuery(string? Q, int? Page, int? PageSize);

/// <summary>Body of PUT /api/accounts/{id}/ip-only. Nullable so that a missing field is refused rather than read as false.</summary>
public sealed record IpOnlyChange
{
    public bool? IpOnly { get; init; }
}

/// <summary>
/// Account search (for picking the account of an IP setting) and the account's "IP only" switch
/// (the carrier's "Disable Credentials"), scoped to the caller's reseller like the IP settings.
/// </summary>
public sealed partial class AccountsService(AdminWrites writer, AccountsStore store, ILogger<AccountsService> logger)
{
    public const int MaxPageSize = 100;

    public async Task<AccountPage> SearchAsync(AdminCaller caller, AccountQuery query, CancellationToken ct)
    {
        var paging = Paging.Check(query.Page, query.PageSize, 20, MaxPageSize);
        var (items, total) = await writer.ReadAsync(connection => store.SearchAsync(connection, caller, query.Q, paging, ct), ct);
        return new AccountPage([.. items.Select(AccountSummary.From)], total, paging.Page, paging.PageSize);
    }

    public async Task<AccountSummary> GetAsync(AdminCaller caller, int id, CancellationToken ct)
    {
        var row = await writer.ReadAsync(connection => store.GetAsync(connection, null, id, forUpdate: false, ct), ct);
        return AccountSummary.From(Visible(caller, id, row));
    }

    /// <summary>The reseller accounts a filter may name: all of them for an admin key, none for a reseller key (it sees only its own).</summary>
    public async Task<IReadOnlyList<AccountSummary>> ResellersAsync(AdminCaller caller, CancellationToken ct) =>
        caller.ResellerId is not null
            ? []
            : [.. (await writer.ReadAsync(connection => store.ResellersAsync(connection, ct), ct)).Select(AccountSummary.From)];

    /// <summary>Sets or clears "IP only"; the snapshot is rebuilt before this returns, so the account's devices are answered accordingly at once.</summary>
    public async Task<AccountSummary> SetIpOnlyAsync(AdminCaller caller, int id, IpOnlyChange change, CancellationToken ct)
    {
        if (change.IpOnly is not { } ipOnly)
        {
            throw AdminProblemException.Invalid("ipOnly", "ipOnly is required: true (devices may not authenticate by password) or false");
        }

        await writer.InTransactionAsync(caller, async (connection, transaction, audit) =>
        {
            var row = Visible(caller, id, await store.GetAsync(connection, transaction, id, forUpdate: true, ct));
            if (row.Deleted != 0)
            {
                throw AdminProblemException.Invalid("id", $"account {id} is deleted");
            }

            await store.SetIpOnlyAsync(connection, transaction, id, ipOnly, ct);
            audit.Add(new AuditEntry
            {
                Entity = AuditEntities.Account,
                EntityId = id,
                Action = AuditActions.IpOnly,
                AccountId = id,
                ResellerId = row.ResellerId,
                Before = new { IpOnly = row.SipCredentialsDisabled != 0 },
                After = new { IpOnly = ipOnly },
            });
            return id;
        }, ct);
        LogIpOnly(caller.Name, id, ipOnly);
        return await GetAsync(caller, id, ct);
    }

    /// <summary>Accounts of other resellers, and account types that hold no IP settings or devices, do not exist for the caller.</summary>
    private static AccountRecord Visible(AdminCaller caller, int id, AccountRecord? row) =>
        row is not null && caller.CanSee(row.ResellerId) && row.Type is 0 or 3
            ? row
            : throw new AdminProblemException(StatusCodes.Status404NotFound, $"account {id} not found", "id");

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin API: {Caller} set account {AccountId} IP only = {IpOnly}")]
    private partial void LogIpOnly(string caller, int accountId, bool ipOnly);
}
