namespace FsDirectory.Audit;

/// <summary>What an audit record is about: the <c>fsdir_audit.entity</c> values.</summary>
public static class AuditEntities
{
    public const string IpSetting = "ip_setting";
    public const string Account = "account";
    public const string TrustedProxy = "trusted_proxy";
    public const string DefaultSipProfile = "default_sip_profile";
}

/// <summary>What was done: the <c>fsdir_audit.action</c> values.</summary>
public static class AuditActions
{
    public const string Create = "create";
    public const string Replace = "replace";
    public const string Delete = "delete";
    public const string Activate = "activate";
    public const string Deactivate = "deactivate";
    public const string Import = "import";
    public const string IpOnly = "ip_only";
    public const string Set = "set";
}

/// <summary>
/// One changed row, as a write adds it to its <see cref="AuditRecords"/>. <see cref="Before"/> and <see cref="After"/>
/// are serialized as JSON (null: the row did not exist). <see cref="AccountId"/> and <see cref="ResellerId"/> are the
/// row's account and that account's <c>reseller_id</c> (0 for the operator's own); null for operator settings.
/// </summary>
public sealed record AuditEntry
{
    public required string Entity { get; init; }
    public long? EntityId { get; init; }
    public required string Action { get; init; }
    public int? AccountId { get; init; }
    public int? ResellerId { get; init; }
    public object? Before { get; init; }
    public object? After { get; init; }
}

/// <summary>The records of one admin write, collected while it runs and inserted in its transaction just before it commits.</summary>
public sealed class AuditRecords
{
    private readonly List<AuditEntry> _entries = [];

    public IReadOnlyList<AuditEntry> Entries => _entries;

    public void Add(AuditEntry entry) => _entries.Add(entry);
}
