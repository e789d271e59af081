using System.Data.Common;
using System.Globalization;
using Dapper;
using FsDirectory.Audit;
using FsDirectory.Database;
using FsDirectory.Snapshots;

namespace FsDirectory.Admin;

/// <summary>A <c>sip_profiles</c> row: <see cref="Usable"/> = active and valid in the current snapshot (what FreeSWITCH is answered from).</summary>
public sealed record SipProfileOption(int Id, string Name, bool Active, bool Usable);

/// <summary>
/// The global default SIP profile of IP settings (<c>system.ip_auth_default_sip_profile</c>, reseller 0).
/// <see cref="SipProfileId"/>: 0 = none (rules without a profile apply on every profile); null when the stored
/// <see cref="Setting"/> is not a number. <see cref="Problem"/>: why the setting is unusable (those rules are then refused).
/// </summary>
public sealed record DefaultSipProfile(
    int? SipProfileId, string? Setting, string Label, string? Problem, bool CanChange, IReadOnlyList<SipProfileOption> Profiles);

public sealed record DefaultSipProfileChange
{
    public int? SipProfileId { get; init; }
}

/// <summary>What a change would do: the rules bound to the global default (<c>sip_profile_id</c> 0) that would move to the proposed profile.</summary>
public sealed record DefaultSipProfileImpact(string Current, int ProposedSipProfileId, string Proposed, long RulesChanging, long ActiveRulesChanging);

/// <summary>
/// View, preview and change of the global default SIP profile. It applies to every reseller's rules, so only
/// keys without a ResellerId may change it; reseller keys may view it and preview the impact on their own rules.
/// </summary>
public sealed partial class DefaultSipProfileService(
    AdminWrites writer, SnapshotHolder snapshots, ILogger<DefaultSipProfileService> logger)
{
    private const string SettingSql = "SELECT id AS Id, value AS Value FROM `system` WHERE name = @name AND reseller_id = 0 ORDER BY id LIMIT 1";
    private const string SettingForUpdateSql = SettingSql + " FOR UPDATE";
    private const string ProfilesSql = "SELECT id AS Id, name AS Name, status AS Status FROM sip_profiles ORDER BY id";
    private const string UpdateSql = "UPDATE `system` SET value = @value, `timestamp` = UTC_TIMESTAMP() WHERE id = @id";

    // ASTPP's system table has NOT NULL columns without defaults: every one is given.
    private const string InsertSql = """
        INSERT INTO `system` (name, display_name, value, field_type, comment, `timestamp`, reseller_id, is_display, group_title, sub_group)
        VALUES (@name, 'Default SIP profile for IP settings', @value, 'default_system_input',
                'sip_profiles.id used by IP settings whose sip_profile_id is 0; empty = every profile', UTC_TIMESTAMP(), 0, 0, 'fsdirectory', 'ip_auth')
        """;

    private const string ImpactSql = "SELECT COUNT(*) AS Total, CAST(COALESCE(SUM(m.status = 0), 0) AS SIGNED) AS Active FROM ip_map m LEFT JOIN accounts a ON a.id = m.accountid"
        + " WHERE m.sip_profile_id = 0 AND " + IpSettingsStore.Visible;

    public Task<DefaultSipProfile> GetAsync(AdminCaller caller, CancellationToken ct) =>
        writer.ReadAsync(async connection =>
        {
            var setting = await ReadSettingAsync(connection, null, ct);
            var profiles = await ProfilesAsync(connection, ct);
            var id = ParseSetting(setting?.Value);
            return new DefaultSipProfile(id, setting?.Value, Label(id, setting?.Value, profiles), SettingProblem(), caller.ResellerId is null, profiles);
        }, ct);

    public Task<DefaultSipProfileImpact> PreviewAsync(AdminCaller caller, int? proposed, CancellationToken ct) =>
        writer.ReadAsync(async connection =>
        {
            var profiles = await ProfilesAsync(connection, ct);
            var id = Validate(proposed, profiles);
            var setting = await ReadSettingAsync(connection, null, ct);
            return await ImpactAsync(connection, null, caller, setting?.Value, id, profiles, ct);
        }, ct);

    /// <summary>Changes the setting; the snapshot is rebuilt (and the switches pushed) before this returns.</summary>
    public async Task<DefaultSipProfileImpact> SetAsync(AdminCaller caller, DefaultSipProfileChange change, CancellationToken ct)
    {
        if (caller.ResellerId is not null)
        {
            throw new AdminProblemException(StatusCodes.Status403Forbidden,
                "the global default SIP profile applies to the rules of every reseller: only a key without ResellerId may change it", "sipProfileId");
        }

        var impact = await writer.InTransactionAsync(caller, async (connection, transaction, audit) =>
        {
            var profiles = await ProfilesAsync(connection, ct, transaction);
            var id = Validate(change.SipProfileId, profiles);
            var setting = await ReadSettingAsync(connection, transaction, ct, forUpdate: true);
            var result = await ImpactAsync(connection, transaction, caller, setting?.Value, id, profiles, ct);
            var value = id == 0 ? string.Empty : id.ToString(CultureInfo.InvariantCulture);
            await connection.ExecuteAsync(new CommandDefinition(setting is null ? InsertSql : UpdateSql,
                new { id = setting?.Id, name = DirectoryStore.DefaultProfileSettingName, value }, transaction, cancellationToken: ct));
            // One setting, operator-only: no entity id, and no reseller (reseller keys never see the record).
            audit.Add(new AuditEntry
            {
                Entity = AuditEntities.DefaultSipProfile,
                Action = AuditActions.Set,
                Before = setting is null ? null : new { Setting = setting.Value, SipProfileId = ParseSetting(setting.Value), Label = result.Current },
                After = new { Setting = value, SipProfileId = id, Label = result.Proposed, result.RulesChanging },
            });
            return result;
        }, ct);
        LogChanged(caller.Name, impact.Current, impact.Proposed, impact.RulesChanging);
        return impact;
    }

    private static async Task<SettingRow?> ReadSettingAsync(DbConnection connection, DbTransaction? transaction, CancellationToken ct, bool forUpdate = false) =>
        await connection.QuerySingleOrDefaultAsync<SettingRow>(new CommandDefinition(forUpdate ? SettingForUpdateSql : SettingSql,
            new { name = DirectoryStore.DefaultProfileSettingName }, transaction, cancellationToken: ct));

    private async Task<List<SipProfileOption>> ProfilesAsync(DbConnection connection, CancellationToken ct, DbTransaction? transaction = null)
    {
        var usable = snapshots.Current?.Profiles.Select(p => p.Id).ToHashSet() ?? [];
        var rows = await connection.QueryAsync<ProfileRow>(new CommandDefinition(ProfilesSql, transaction: transaction, cancellationToken: ct));
        return [.. rows.Select(r => new SipProfileOption(r.Id, r.Name ?? string.Empty, r.Status == 0, usable.Contains(r.Id)))];
    }

    private int Validate(int? proposed, List<SipProfileOption> profiles)
    {
        if (proposed is not { } id)
        {
            throw AdminProblemException.Invalid("sipProfileId", "sipProfileId is required: a sip_profiles id, or 0 for no default (rules without a profile then apply on every profile)");
        }

        if (id < 0)
        {
            throw AdminProblemException.Invalid("sipProfileId", "sipProfileId must be 0 (no default) or a sip_profiles id");
        }

        if (id == 0)
        {
            return 0;
        }

        var profile = profiles.FirstOrDefault(p => p.Id == id)
            ?? throw AdminProblemException.Invalid("sipProfileId", $"sip profile {id} does not exist");
        if (!profile.Active)
        {
            throw AdminProblemException.Invalid("sipProfileId", $"sip profile {id} is inactive");
        }

        if (!profile.Usable)
        {
            // Active in the table but refused by the snapshot: rules bound to it would all be refused (fail closed).
            var why = snapshots.Current?.Problems.FirstOrDefault(p => p.Table == "sip_profiles" && p.RowId == id)?.Problem ?? "it is not loaded yet";
            throw AdminProblemException.Invalid("sipProfileId", $"sip profile {id} cannot be used: {why}");
        }

        return id;
    }

    private static async Task<DefaultSipProfileImpact> ImpactAsync(DbConnection connection, DbTransaction? transaction, AdminCaller caller,
        string? setting, int proposed, List<SipProfileOption> profiles, CancellationToken ct)
    {
        var current = ParseSetting(setting);
        var counts = current == proposed
            ? new ImpactRow()
            : await connection.QuerySingleAsync<ImpactRow>(new CommandDefinition(ImpactSql, new { scope = caller.ResellerId }, transaction, cancellationToken: ct));
        return new DefaultSipProfileImpact(Label(current, setting, profiles), proposed, Label(proposed, null, profiles), counts.Total, counts.Active);
    }

    /// <summary>As the snapshot reads it: empty or 0 is no default; anything else must be a number.</summary>
    private static int? ParseSetting(string? setting)
    {
        if (string.IsNullOrWhiteSpace(setting))
        {
            return 0;
        }

        return int.TryParse(setting.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
    }

    public static string Label(int? id, string? setting, IReadOnlyList<SipProfileOption> profiles)
    {
        if (id is null)
        {
            return $"'{setting}' (not a profile id)";
        }

        if (id == 0)
        {
            return "none (every profile)";
        }

        var profile = profiles.FirstOrDefault(p => p.Id == id);
        return profile is null
            ? $"profile {id} (missing)"
            : $"{profile.Name} (id {id}{(profile.Usable ? string.Empty : profile.Active ? ", unusable" : ", inactive")})";
    }

    private string? SettingProblem() =>
        snapshots.Current?.Problems.FirstOrDefault(p => p.Table == "system")?.Problem;

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin API: {Caller} changed the global default SIP profile from {From} to {To} ({Rules} rule(s) change profile)")]
    private partial void LogChanged(string caller, string from, string to, long rules);

    private sealed record SettingRow
    {
        public int Id { get; init; }
        public string? Value { get; init; }
    }

    private sealed record ProfileRow
    {
        public int Id { get; init; }
        public string? Name { get; init; }
        public int Status { get; init; }
    }

    private sealed record ImpactRow
    {
        public long Total { get; init; }
        public long Active { get; init; }
    }
}
