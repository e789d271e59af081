using Microsoft.AspNetCore.Http.HttpResults;

namespace FsDirectory.Admin;

/// <summary>
/// Trusted SIP proxies (Kamailio, OpenSIPS) as a JSON API: /api/trusted-proxies. An operator setting:
/// keys bound to a reseller get 403, and the group answers 404 while the admin API is off.
/// </summary>
public static class TrustedProxiesApi
{
    public static RouteGroupBuilder MapTrustedProxies(this IEndpointRouteBuilder app)
    {
        var group = app.MapAdminGroup("/api/trusted-proxies", "Trusted proxies", "trusted proxy", gate: AdminAccess.RequireOperatorKey);
        group.ProducesProblem(StatusCodes.Status403Forbidden);

        group.MapGet("/", List).WithName("ListTrustedProxies");
        group.MapPost("/", Create).WithName("CreateTrustedProxy").ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/{id:int}", Get).WithName("GetTrustedProxy");
        group.MapPut("/{id:int}", Replace).WithName("ReplaceTrustedProxy").ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/{id:int}", Delete).WithName("DeleteTrustedProxy");
        return group;
    }

    public static async Task<Ok<IReadOnlyList<TrustedProxySetting>>> List(TrustedProxiesService service, CancellationToken ct) =>
        TypedResults.Ok(await service.ListAsync(ct));

    public static async Task<Ok<TrustedProxySetting>> Get(int id, TrustedProxiesService service, CancellationToken ct) =>
        TypedResults.Ok(await service.GetAsync(id, ct));

    public static async Task<Created<TrustedProxySetting>> Create(TrustedProxyInput input, AdminCaller caller, TrustedProxiesService service, CancellationToken ct)
    {
        var created = await service.CreateAsync(caller, input, ct);
        return TypedResults.Created($"/api/trusted-proxies/{created.Id}", created);
    }

    public static async Task<Ok<TrustedProxySetting>> Replace(int id, TrustedProxyInput input, AdminCaller caller, TrustedProxiesService service, CancellationToken ct) =>
        TypedResults.Ok(await service.ReplaceAsync(caller, id, input, ct));

    public static async Task<NoContent> Delete(int id, AdminCaller caller, TrustedProxiesService service, CancellationToken ct)
    {
        await service.DeleteAsync(caller, id, ct);
        return TypedResults.NoContent();
    }
}
