namespace FsDirectory.Admin;

/// <summary>An <c>ip_map</c> row as the admin API shows it.</summary>
public sealed record IpSetting
{
    public int Id { get; init; }
    public string Name { get; init; } = string.Empty;
    public string Ip { get; init; } = string.Empty;
    public int AccountId { get; init; }
    public string? AccountNumber { get; init; }

    /// <summary>The account's company name, else its holder's name (null when the account has neither, or is missing).</summary>
    public string? AccountName { get; init; }

    /// <summary>The reseller of the rule's account (<c>accounts.reseller_id</c>, 0 = the admin's own); this is what reseller keys are scoped by.</summary>
    public int ResellerId { get; init; }

    /// <summary>The reseller account's company name or number; null for the admin's own accounts (reseller 0).</summary>
    public string? ResellerName { get; init; }
    public int SipProfileId { get; init; }
    public string Prefix { get; init; } = string.Empty;
    public string Context { get; init; } = string.Empty;
    public int Status { get; init; }
}

/// <summary>Create/replace body. Nullable so that a missing field is told apart from 0.</summary>
public sealed record IpSettingInput
{
    public string? Name { get; init; }
    public string? Ip { get; init; }
    public int? AccountId { get; init; }

    /// <summary>Optional: when given, the account must belong to this reseller (0 = the admin's own accounts).</summary>
    public int? ResellerId { get; init; }

    /// <summary>0 or omitted: the global default profile (system setting ip_auth_default_sip_profile).</summary>
    public int? SipProfileId { get; init; }
    public string? Prefix { get; init; }
    public string? Context { get; init; }
    public int? Status { get; init; }
}

/// <summary>The page and page size of a list request, checked: page 1 or more, size 1 to the list's maximum.</summary>
public readonly record struct Paging(int Page, int PageSize)
{
    public long Offset => (long)(Page - 1) * PageSize;

    public static Paging Check(int? page, int? pageSize, int defaultSize, int maxSize)
    {
        if (page is < 1)
        {
            throw AdminProblemException.Invalid("page", "page must be 1 or more");
        }

        if (pageSize is < 1 || pageSize > maxSize)
        {
            throw AdminProblemException.Invalid("pageSize", $"pageSize must be between 1 and {maxSize}");
        }

        return new Paging(page ?? 1, pageSize ?? defaultSize);
    }
}

public sealed record IpSettingPage(IReadOnlyList<IpSetting> Items, long Total, int Page, int PageSize);

public sealed record IdsRequest
{
    public IReadOnlyList<int>? Ids { get; init; }
}

public sealed record StatusRequest
{
    public IReadOnlyList<int>? Ids { get; init; }
    public int? Status { get; init; }
}

public sealed record BulkResult(int Count, IReadOnlyList<int> Ids);

/// <summary><see cref="Sort"/>: a key of <see cref="IpSettingsStore.SortKeys"/>, '-' first for descending; default id.</summary>
public sealed record ListQuery(int? AccountId, int? ResellerId, int? SipProfileId, int? Status, string? Q, int? Page, int? PageSize, string? Sort = null);

/// <summary>A refused request: the RFC 7807 status and detail, plus the field (or CSV line) at fault.</summary>
public sealed class AdminProblemException(int status, string detail, string? field = null, int? line = null, int? existingId = null)
    : Exception(detail)
{
    public int Status { get; } = status;
    public string? Field { get; } = field;
    public int? Line { get; } = line;
    public int? ExistingId { get; } = existingId;

    public static AdminProblemException Invalid(string field, string detail) => new(StatusCodes.Status400BadRequest, detail, field);

    public AdminProblemException AtLine(int line) => new(Status, $"line {line}: {Message}", Field, line, ExistingId);
}
