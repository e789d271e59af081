using FsDirectory.ChangeFeed;


namespace FsDirectory.Database;

// Rows exactly as ASTPP stores them; the snapshot builder decides what is usable.

public sealed record AccountRow
{
    public int Id { get; init; }
    public string? Number { get; init; }
    public int? ResellerId { get; init; }
    public int PricelistId { get; init; }
    public int? Type { get; init; }
    public int Status { get; init; }
    public int Deleted { get; init; }
    public int SipCredentialsDisabled { get; init; }

    /// <summary>Concurrent calls allowed (<c>accounts.maxchannels</c>); 0 or less: unlimited, as in ASTPP.</summary>
    public int MaxChannels { get; init; }

    /// <summary>Calls per second allowed (<c>accounts.cps</c>); 0 or less: unlimited.</summary>
    public int Cps { get; init; }

    public bool IsActive => Status == 0 && Deleted == 0;
}

public sealed record IpMapRow
{
    public int Id { get; init; }
    public string? Name { get; init; }
    public string? Ip { get; init; }
    public int AccountId { get; init; }
    public int ResellerId { get; init; }
    public int PricelistId { get; init; }
    public int SipProfileId { get; init; }
    public string? Prefix { get; init; }
    public string? Context { get; init; }
    public int Status { get; init; }
}

public sealed record SipDeviceRow
{
    public int Id { get; init; }
    public string? Username { get; init; }
    public int AccountId { get; init; }
    public int ResellerId { get; init; }
    public string? DirParams { get; init; }
    public string? DirVars { get; init; }
    public int Status { get; init; }
}

public sealed record SipProfileRow
{
    public int Id { get; init; }
    public string? Name { get; init; }
    public string? SipIp { get; init; }
    public string? SipPort { get; init; }
    public string? ProfileData { get; init; }
    public int Status { get; init; }

    /// <summary><c>fsdir_ip_auth_mode</c> (migration 008): <c>acl</c> or <c>dialplan</c>.</summary>
    public string? IpAuthMode { get; init; }
}

public sealed record TrustedProxyRow
{
    public int Id { get; init; }
    public string? Name { get; init; }
    public string? Ip { get; init; }
    public int SipProfileId { get; init; }
    public int Status { get; init; }
}

public sealed record GatewayRow
{
    public int Id { get; init; }
    public string? Name { get; init; }
    public int SipProfileId { get; init; }
    public string? GatewayData { get; init; }
    public int Status { get; init; }
}

/// <summary>Everything one snapshot is built from, read in one consistent transaction.</summary>
public sealed record SnapshotData
{
    public required string ChangeToken { get; init; }
    public required IReadOnlyList<AccountRow> Accounts { get; init; }
    /// <summary>
    /// Enumerated once, possibly straight from the database (see <see cref="DirectoryStore.LoadAsync{T}"/>).
    /// Null: <c>ip_map</c> and everything the rules depend on are unchanged, and the previous snapshot's rules are kept.
    /// </summary>
    public required IEnumerable<IpMapRow>? IpRules { get; init; }

    /// <summary>Null: <c>sip_devices</c> and <c>accounts</c> are unchanged, and the previous snapshot's devices are kept.</summary>
    public required IReadOnlyList<SipDeviceRow>? Devices { get; init; }

    /// <summary>How far the change feed was read when these rows were (null in checksum mode).</summary>
    public FeedPosition? FeedPosition { get; init; }

    /// <summary>The tables whose changes this load picks up; null for a full load.</summary>
    public IReadOnlySet<string>? ChangedTables { get; init; }
    public required IReadOnlyList<SipProfileRow> Profiles { get; init; }
    public required IReadOnlyList<GatewayRow> Gateways { get; init; }
    public required string? DefaultSipProfileSetting { get; init; }

    /// <summary><c>fsdir_trusted_proxies</c>: a handful of rows, always read.</summary>
    public IReadOnlyList<TrustedProxyRow> TrustedProxies { get; init; } = [];
}

/// <summary>A row the service skipped, and why. Exposed by the admin API and the status endpoint.</summary>
public sealed record DataProblem(string Table, long RowId, string Problem);
