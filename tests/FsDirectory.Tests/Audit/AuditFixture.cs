using FsDirectory.Audit;
using FsDirectory.Tests.Admin;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Audit;

/// <summary>
/// One database, two services: <see cref="Server"/> behind a TLS proxy at 127.0.0.1 (this test's own address), so
/// X-Forwarded-For is believed; <see cref="ProxyElsewhere"/> trusts only 127.0.0.2, so the same header is a forgery.
/// Records are kept ten days and trimmed every second, two rows per batch.
/// </summary>
public sealed class AuditFixture : IAsyncLifetime
{
    public const string AdminKey = "audit-admin-key-0123456789-abc";
    public const string ResellerKey = "audit-reseller1-key-0123456789";
    public const string OtherResellerKey = "audit-reseller9-key-0123456789";

    public TestDatabase Database { get; private set; } = null!;
    public FsDirectoryServer Server { get; private set; } = null!;
    public FsDirectoryServer ProxyElsewhere { get; private set; } = null!;

    public AdminClient Admin => new(Server, AdminKey);
    public AdminClient Reseller => new(Server, ResellerKey);
    public AdminClient OtherReseller => new(Server, OtherResellerKey);

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync(seed: true);
        await Database.ExecuteAsync("""
            INSERT INTO accounts (id, number, reseller_id, pricelist_id, status, type, deleted, company_name) VALUES
              (9, '5000000009', 0, 1, 0, 1, 0, 'Other Reseller'), (31, '3000000031', 9, 1, 0, 0, 0, 'Other Customer');
            """);
        Server = await FsDirectoryServer.StartAsync(Database.ConnectionString, Settings("127.0.0.1"));
        ProxyElsewhere = await FsDirectoryServer.StartAsync(Database.ConnectionString, Settings("127.0.0.2"));
    }

    public async Task DisposeAsync()
    {
        await ProxyElsewhere.DisposeAsync();
        await Server.DisposeAsync();
        await Database.DisposeAsync();
    }

    /// <summary>Every record in the table, oldest first, read straight from the database.</summary>
    public Task<IReadOnlyList<AuditRow>> RowsAsync() =>
        Database.QueryAsync<AuditRow>("""
            SELECT id AS Id, request_id AS RequestId, changed_at AS ChangedAt, key_name AS KeyName, client_address AS ClientAddress, via AS Via, entity AS Entity,
                   entity_id AS EntityId, action AS Action, account_id AS AccountId, reseller_id AS ResellerId, before_json AS BeforeJson, after_json AS AfterJson
            FROM fsdir_audit ORDER BY id
            """);

    public Task<long> CountAsync() => Database.ScalarAsync<long>("SELECT COUNT(*) FROM fsdir_audit");

    private static Dictionary<string, string?> Settings(string proxy)
    {
        var settings = AdminKeys.Settings((AdminKey, "ops", null), (ResellerKey, "northwind", 1), (OtherResellerKey, "other", 9));
        settings["ForwardedHeaders:KnownProxies:0"] = proxy;
        settings["Audit:Retention"] = "10.00:00:00";
        settings["Audit:TrimInterval"] = "00:00:01";
        settings["Audit:TrimBatchSize"] = "2";
        settings["Audit:TrimPause"] = "00:00:00.010";
        return settings;
    }
}
