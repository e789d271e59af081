using System.Net;
using FsDirectory.Data;

namespace FsDirectory.IpAuth;

/// <summary>"Why did this call fail?": the matcher's decision for an address and number, with every candidate considered.</summary>
public static class IpAuthApi
{
    public static RouteGroupBuilder MapIpAuthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/ip-auth").WithTags("IP authentication");
        group.MapGet("/resolve", Resolve).AddEndpointFilter(LoopbackOnly);
        return group;
    }

    public static IResult Resolve(string? ip, string? number, string? profile, SnapshotHolder snapshots)
    {
        if (snapshots.Current is not { } snapshot)
        {
            return Results.Problem("No data loaded yet.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        if (string.IsNullOrWhiteSpace(ip) || string.IsNullOrEmpty(number))
        {
            return Results.Problem("Both 'ip' and 'number' are required.", statusCode: StatusCodes.Status400BadRequest);
        }

        var decision = DialplanAnswers.Decide(snapshot, ip, number, profile);
        var candidates = IpAddressKey.TryParse(ip, out var source)
            ? snapshot.Rules.Candidates(source, number, string.IsNullOrEmpty(profile) ? null : profile)
            : [];
        return Results.Ok(new ResolveResponse(
            decision.Accepted,
            decision.Reason,
            decision.Rule is null ? null : RuleView.From(decision.Rule),
            decision.Number,
            decision.Context,
            [.. candidates.Select(RuleView.From)],
            snapshot.Version));
    }

    /// <summary>Rule data is sensitive; until API keys guard it, only the host itself may ask.</summary>
    private static ValueTask<object?> LoopbackOnly(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var remote = context.HttpContext.Connection.RemoteIpAddress;
        return remote is not null && IPAddress.IsLoopback(remote)
            ? next(context)
            : ValueTask.FromResult<object?>(Results.Problem("Only loopback clients may use this endpoint.", statusCode: StatusCodes.Status403Forbidden));
    }
}

public sealed record ResolveResponse(bool Accepted, string? Reason, RuleView? Rule, string? Number, string? Context, IReadOnlyList<RuleView> Candidates, long SnapshotVersion);

public sealed record RuleView(int Id, string Name, int AccountId, string AccountCode, string Prefix, string Network, string? Profile, string Context)
{
    public static RuleView From(IpRule rule) =>
        new(rule.Id, rule.Name, rule.AccountId, rule.AccountCode, rule.Prefix, rule.Network.ToString(), rule.Profile, rule.Context);
}
