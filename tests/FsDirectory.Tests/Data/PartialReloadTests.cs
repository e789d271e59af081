using FsDirectory.Tests.EventSocket;
using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Data;

/// <summary>
/// An edit changes only what it touches: at a million IP rules, a device edit must not re-read the
/// rules, a rule edit must not rebuild the devices, and unchanged rules and devices stay the previous
/// snapshot's objects.
/// </summary>
public sealed class PartialReloadTests : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private FsDirectoryServer _server = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        // A bad rule, so that its problem has to survive reloads that keep the rules.
        await _database.ExecuteAsync(
            "INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status) VALUES (60, 'bad', 'not-an-ip', 2, 0, 0, 0, '', 'default', 0)");
        _server = await FsDirectoryServer.StartAsync(_database.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_device_edit_keeps_the_rule_index_and_the_built_acl_conf()
    {
        var before = _server.Snapshot!;
        var aclBefore = await FetchAclAsync();

        await _database.ExecuteAsync(
            """INSERT INTO sip_devices (id, username, accountid, reseller_id, dir_params, dir_vars, status) VALUES (60, 'partial-60', 1, 0, '{"password":"p60"}', '{}', 0)""");
        await _server.ReloadAsync();

        var after = _server.Snapshot!;
        Assert.True(after.Version > before.Version);
        Assert.Same(before.Rules, after.Rules);
        Assert.Same(before.UsableRules, after.UsableRules);
        Assert.Contains(after.Problems, p => p.Table == "ip_map" && p.RowId == 60);
        Assert.True(after.Devices.ContainsKey("partial-60"));
        Assert.Equal(aclBefore, await FetchAclAsync());
        var user = await _server.FetchAsync(FreeSwitchForm.Load("directory-sip_auth-register").With("user", "partial-60"));
        Assert.NotNull(Param(user, "a1-hash"));
    }

    [Fact]
    public async Task A_device_edit_shares_every_unchanged_device_object_with_the_previous_snapshot()
    {
        var before = _server.Snapshot!.Devices;
        await _database.ExecuteAsync("""UPDATE sip_devices SET dir_params = '{"password":"changed-1002"}' WHERE username = '1002'""");
        await _server.ReloadAsync();

        var after = _server.Snapshot!.Devices;
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.Equal("changed-1002", after["1002"].Password);
        Assert.NotSame(before["1002"], after["1002"]);
        Assert.All(after.Keys.Where(user => user != "1002"), user => Assert.Same(before[user], after[user]));
    }

    [Fact]
    public async Task A_rule_edit_keeps_the_devices_and_serves_the_new_rule()
    {
        var before = _server.Snapshot!;
        await _database.ExecuteAsync(
            "INSERT INTO ip_map (id, name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status) VALUES (61, 'new', '192.0.2.61', 1, 0, 0, 0, '', 'default', 0)");
        await _server.ReloadAsync();

        var after = _server.Snapshot!;
        Assert.Same(before.Devices, after.Devices);
        Assert.NotSame(before.Rules, after.Rules);
        Assert.Contains(after.UsableRules, r => r.Id == 61);
        Assert.Contains("192.0.2.61/32", await FetchAclAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rule_edit_shares_every_unchanged_rule_object_with_the_previous_snapshot()
    {
        var before = _server.Snapshot!.UsableRules.ToDictionary(r => r.Id);
        await _database.ExecuteAsync("UPDATE ip_map SET prefix = '555*' WHERE id = 2");
        await _server.ReloadAsync();

        var after = _server.Snapshot!.UsableRules.ToDictionary(r => r.Id);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.Equal("555*", after[2].Prefix);
        Assert.NotSame(before[2], after[2]);
        Assert.All(after.Keys.Where(id => id != 2), id => Assert.Same(before[id], after[id]));
    }

    [Fact]
    public async Task An_account_edit_rebuilds_both_rules_and_devices()
    {
        var before = _server.Snapshot!;
        Assert.Contains(before.UsableRules, r => r.AccountId == 2);
        Assert.Contains(before.Devices.Values, d => d.AccountId == 2);

        await _database.ExecuteAsync("UPDATE accounts SET status = 1 WHERE id = 2");
        await _server.ReloadAsync();

        var after = _server.Snapshot!;
        Assert.DoesNotContain(after.UsableRules, r => r.AccountId == 2);
        Assert.DoesNotContain(after.Devices.Values, d => d.AccountId == 2);
    }

    [Fact]
    public async Task A_profile_edit_rebuilds_the_rules_that_depend_on_it()
    {
        var before = _server.Snapshot!;
        await _database.ExecuteAsync("UPDATE sip_profiles SET status = 1 WHERE id = 1");
        await _server.ReloadAsync();

        var after = _server.Snapshot!;
        Assert.Same(before.Devices, after.Devices);
        Assert.NotEmpty(before.UsableRules);
        // Every demo rule is on the default profile, directly or through the global default.
        Assert.Empty(after.UsableRules);
    }

    [Fact]
    public void The_first_snapshot_goes_live_with_acl_conf_already_built()
    {
        // Nothing has fetched acl.conf from this server yet.
        Assert.True(_server.Snapshot!.HasAnswer("acl.conf"));
    }

    [Fact]
    public async Task After_a_rule_edit_acl_conf_is_built_in_the_background_without_waiting_for_a_fetch()
    {
        static FsDirectory.Acl.AclConfDocument NotBuilt(FsDirectory.Snapshots.Snapshot _) => throw new InvalidOperationException("acl.conf was not built in the background");

        await _database.ExecuteAsync("UPDATE ip_map SET ip = '192.0.2.62' WHERE id = 1");
        await _server.ReloadAsync();
        var edited = _server.Snapshot!;

        await Eventually.TrueAsync(() => edited.HasAnswer("acl.conf"), TimeSpan.FromSeconds(10), "acl.conf of the edited snapshot built");
        var built = string.Concat(edited.Answer("acl.conf", NotBuilt).Parts.Select(part => System.Text.Encoding.UTF8.GetString(part.Span)));
        Assert.Contains("192.0.2.62/32", built, StringComparison.Ordinal);
    }

    private async Task<string> FetchAclAsync()
    {
        using var response = await _server.PostAsync(FreeSwitchForm.Load("configuration-acl.conf"));
        return await response.Content.ReadAsStringAsync();
    }
}

public sealed class ChangeTokenTests
{
    [Theory]
    // Trigger versions name the tables that moved.
    [InlineData("accounts=1;ip_map=7;sip_devices=3", "accounts=1;ip_map=7;sip_devices=4", "sip_devices")]
    // CHECKSUM TABLE entries are compared by table, without the schema name.
    [InlineData("db.accounts=10;db.ip_map=20", "db.accounts=11;db.ip_map=20", "accounts")]
    // A table that appears or disappears counts as changed.
    [InlineData("accounts=1", "accounts=1;gateways=1", "gateways")]
    [InlineData("accounts=1;ip_map=2", "accounts=1;ip_map=2", "")]
    public void Change_tokens_name_exactly_the_tables_whose_entry_differs(string before, string after, string expected)
    {
        var changed = DirectoryStore.ChangedTables(before, after);

        Assert.Equal(expected.Split(',', StringSplitOptions.RemoveEmptyEntries), changed!.Order());
    }

    [Fact]
    public void An_unreadable_token_means_everything_changed()
    {
        Assert.Null(DirectoryStore.ChangedTables("garbage", "accounts=1"));
    }
}
