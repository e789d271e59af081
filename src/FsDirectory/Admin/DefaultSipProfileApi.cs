using Microsoft.AspNetCore.Http.HttpResults;

namespace FsDirectory.Admin;

/// <summary>/api/settings/default-sip-profile: the global default SIP profile of IP settings (view, impact preview, change).</summary>
public static class DefaultSipProfileApi
{
    public static RouteGroupBuilder MapDefaultSipProfile(this IEndpointRouteBuilder app)
    {
        var group = app.MapAdminGroup("/api/settings/default-sip-profile", "Settings", "setting");
        group.MapGet("/", Get).WithName("GetDefaultSipProfile");
        group.MapGet("/preview", Preview).WithName("PreviewDefaultSipProfile");
        group.MapPut("/", Set).WithName("SetDefaultSipProfile").ProducesProblem(StatusCodes.Status403Forbidden);
        return group;
    }

    public static async Task<Ok<DefaultSipProfile>> Get(AdminCaller caller, DefaultSipProfileService service, CancellationToken ct) =>
        TypedResults.Ok(await service.GetAsync(caller, ct));

    public static async Task<Ok<DefaultSipProfileImpact>> Preview(int? sipProfileId, AdminCaller caller, DefaultSipProfileService service, CancellationToken ct) =>
        TypedResults.Ok(await service.PreviewAsync(caller, sipProfileId, ct));

    public static async Task<Ok<DefaultSipProfileImpact>> Set(DefaultSipProfileChange change, AdminCaller caller, DefaultSipProfileService service, CancellationToken ct) =>
        TypedResults.Ok(await service.SetAsync(caller, change, ct));
}
