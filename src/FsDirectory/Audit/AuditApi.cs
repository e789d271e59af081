using FsDirectory.Admin;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FsDirectory.Audit;

/// <summary>/api/audit: who changed what, when and from where, behind the admin API key (reseller keys see their own accounts' records).</summary>
public static class AuditApi
{
    public static IServiceCollection AddAudit(this IServiceCollection services)
    {
        services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AuditStore>();
        services.AddSingleton<AuditLog>();
        services.AddHostedService<AuditTrimmer>();
        return services;
    }

    public static RouteGroupBuilder MapAudit(this IEndpointRouteBuilder app)
    {
        var group = app.MapAdminGroup("/api/audit", "Audit", "audit record", invalidTitle: "Invalid audit query");
        group.MapGet("/", List).WithName("ListAuditRecords");
        return group;
    }

    public static async Task<Ok<AuditPage>> List([AsParameters] AuditQuery query, AdminCaller caller, AuditLog log, CancellationToken ct) =>
        TypedResults.Ok(await log.ListAsync(caller, query, ct));
}
