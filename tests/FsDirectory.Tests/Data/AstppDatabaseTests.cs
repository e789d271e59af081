using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Data;

/// <summary>ASTPP 6.0's own tables, unmodified, plus only our additive migrations (here applied with the stock client).</summary>
public class AstppDatabaseFixture : IAsyncLifetime
{
    public TestDatabase Database { get; private set; } = null!;
    public FsDirectoryServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateEmptyAsync();
        await Database.ApplyFileAsync(Path.Combine(Paths.Shared, "fixtures", "astpp", "astpp-6.0-tables.sql"));
        await MigrateAsync(Database);
        // Rows as ASTPP's PHP would insert them, every NOT NULL column filled.
        await Database.ExecuteAsync(
            """
            INSERT INTO accounts (id, number, reseller_id, pricelist_id, reference, status, dialed_modify, type, deleted, notify_flag,
              notify_email, invoice_interval, invoice_note, pin, first_used, expiry, charge_per_min, std_cid_translation, did_cid_translation)
            VALUES (13, '7000000013', 0, 1, '', 0, '', 0, 0, 0, '', 0, '', '', NOW(), NOW(), '', '', '');
            INSERT INTO sip_devices (id, username, sip_profile_id, reseller_id, accountid, dir_params, dir_vars, status)
            VALUES (10, '7001', 1, 0, 13, '{"password":"astpp-7001","vm-enabled":"true"}', '{"effective_caller_id_number":"7001"}', 0);
            INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, prefix, context, status)
            VALUES (1, 'ASTPP customer', '198.51.100.0/24', 13, 0, 0, '12345678*', 'default', 0);
            """);
        Server = await FsDirectoryServer.StartAsync(Database.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Database.DisposeAsync();
    }

    protected virtual async Task MigrateAsync(TestDatabase database)
    {
        await database.ApplyMigrationsAsync();
        await database.ApplyMigrationsAsync(); // idempotent
    }
}

/// <summary>The same ASTPP database brought up to date by `fsdirectory migrate`, run twice, instead of the stock client.</summary>
public sealed class AstppMigratedDatabaseFixture : AstppDatabaseFixture
{
    protected override async Task MigrateAsync(TestDatabase database)
    {
        for (var run = 0; run < 2; run++)
        {
            var result = await Migrations.MigrateHarness.RunAsync(database, Paths.Sql(""));
            Assert.True(result.ExitCode == 0, result.ToString());
        }
    }
}

public sealed class AstppDatabaseTests(AstppDatabaseFixture fixture) : AstppDatabaseExpectations<AstppDatabaseFixture>(fixture);

public sealed class AstppDatabaseMigratedByTheCommandTests(AstppMigratedDatabaseFixture fixture) : AstppDatabaseExpectations<AstppMigratedDatabaseFixture>(fixture);

/// <summary>What must hold on an ASTPP database, however the migrations were applied.</summary>
public abstract class AstppDatabaseExpectations<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : AstppDatabaseFixture
{
    [Fact]
    public async Task Migrations_add_only_the_documented_columns_to_astpp_tables()
    {
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT sip_profile_id FROM ip_map WHERE id = 1"));
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT sip_credentials_disabled FROM accounts WHERE id = 13"));
        Assert.True(await fixture.Database.ScalarAsync<long>(
            "SELECT CHARACTER_MAXIMUM_LENGTH FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'ip_map' AND COLUMN_NAME = 'ip'") >= 49);
    }

    [Fact]
    public async Task The_trusted_proxy_table_is_galera_ready_and_its_triggers_keep_change_detection_on_triggers()
    {
        Assert.Equal("InnoDB", await fixture.Database.ScalarAsync<string>(
            "SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'fsdir_trusted_proxies'"));
        Assert.Equal(1L, await fixture.Database.ScalarAsync<long>(
            "SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'fsdir_trusted_proxies' AND CONSTRAINT_TYPE = 'PRIMARY KEY'"));
        Assert.Equal(3L, await fixture.Database.ScalarAsync<long>(
            "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = 'fsdir_trusted_proxies'"));
        var status = await fixture.Server.Client.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/status");
        Assert.Equal("Triggers", status.GetProperty("detection").GetString());
    }

    [Fact]
    public async Task Devices_authenticate_on_an_astpp_database()
    {
        var document = await fixture.Server.FetchAsync(FreeSwitchForm.Load("directory-sip_auth-register").With("user", "7001"));

#pragma warning disable CA5351
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes("7001:127.0.0.1:astpp-7001"))), Param(document, "a1-hash"));
#pragma warning restore CA5351
        Assert.Equal("7000000013", Variable(document, "accountcode"));
    }

    [Fact]
    public async Task Astpp_default_profile_is_served_with_its_globals_and_its_default_acl_list()
    {
        var sofia = await fixture.Server.FetchAsync(FreeSwitchForm.Load("configuration-sofia.conf"));
        var acl = await fixture.Server.FetchAsync(FreeSwitchForm.Load("configuration-acl.conf"));

        var profile = Assert.Single(sofia.Descendants("profile"));
        Assert.Equal("default", profile.Attribute("name")!.Value);
        Assert.Equal("$${local_ip_v4}", Param(sofia, "sip-ip"));
        Assert.Equal("default", Param(sofia, "apply-inbound-acl"));
        var list = Assert.Single(acl.Descendants("list"));
        Assert.Equal("default", list.Attribute("name")!.Value);
        Assert.Equal("198.51.100.0/24", Assert.Single(list.Elements("node")).Attribute("cidr")!.Value);
    }

    [Fact]
    public async Task Ip_rules_with_tech_prefixes_work_on_an_astpp_database()
    {
        var call = FreeSwitchForm.Load("dialplan-acl-authed-tech-prefix").With("Hunt-Network-Addr", "198.51.100.9")
            .With("variable_sofia_profile_name", "default");

        var document = await fixture.Server.FetchAsync(call);

        Assert.Equal(("set", "accountcode=7000000013"), Actions(document)[0]);
        Assert.Equal(("transfer", "12066418000 XML default"), Actions(document)[^1]);
    }
}

/// <summary>An ASTPP database that already holds duplicate rules when migration 005 arrives.</summary>
public sealed class AstppDuplicateRulesTests
{
    private const string AdminKey = "astpp-admin-key-0123456789";

    [Fact]
    public async Task Migration_005_applies_over_existing_duplicates_keeps_them_and_the_problems_report_names_them()
    {
        await using var database = await TestDatabase.CreateEmptyAsync();
        await database.ApplyFileAsync(Path.Combine(Paths.Shared, "fixtures", "astpp", "astpp-6.0-tables.sql"));
        foreach (var file in System.IO.Directory.GetFiles(Paths.Sql("migrations"), "00[1-4]_*.sql").Order(StringComparer.Ordinal))
        {
            await database.ApplyFileAsync(file);
        }

        await database.ExecuteAsync(
            """
            INSERT INTO accounts (id, number, reseller_id, pricelist_id, reference, status, dialed_modify, type, deleted, notify_flag,
              notify_email, invoice_interval, invoice_note, pin, first_used, expiry, charge_per_min, std_cid_translation, did_cid_translation)
            VALUES (13, '7000000013', 0, 1, '', 0, '', 0, 0, 0, '', 0, '', '', NOW(), NOW(), '', '', ''),
                   (14, '7000000014', 0, 1, '', 0, '', 0, 0, 0, '', 0, '', '', NOW(), NOW(), '', '', '');
            INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, prefix, context, status) VALUES
              (1, 'first', '198.51.100.0/24', 13, 0, 0, '12345678*', 'default', 0),
              (2, 'same again', '198.51.100.0/24', 14, 0, 0, '12345678*', 'default', 0),
              (3, 'and again', '198.51.100.0/24', 13, 0, 0, '12345678*', 'default', 1);
            """);

        await database.ApplyMigrationsAsync();
        await database.ApplyMigrationsAsync();

        Assert.Equal(3, await database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map"));
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map WHERE fsdir_rule_key IS NOT NULL AND id = 1"));
        Assert.Equal(2, await database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map WHERE fsdir_rule_key IS NULL"));

        await using var server = await FsDirectoryServer.StartAsync(database.ConnectionString, new Dictionary<string, string?>
        {
            ["Admin:ApiKeys:0:Key"] = AdminKey,
            ["Admin:ApiKeys:0:Name"] = "ops",
        });
        var admin = new Admin.AdminClient(server, AdminKey);
        var (_, problems) = await admin.GetAsync("/api/ip-settings/problems");
        Assert.Contains(problems.EnumerateArray(), p => p.GetProperty("ruleId").GetInt32() == 2 && p.GetProperty("kind").GetString() == "tie" && p.GetProperty("otherRuleId").GetInt32() == 1);
        var (status, conflict) = await admin.PostAsync("/api/ip-settings", new { name = "fourth", ip = "198.51.100.0/24", accountId = 13, prefix = "12345678*" });
        Assert.Equal(System.Net.HttpStatusCode.Conflict, status);
        Assert.Equal(1, conflict.GetProperty("existingId").GetInt32());
    }
}

