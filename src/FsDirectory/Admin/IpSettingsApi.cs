using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace FsDirectory.Admin;

/// <summary>The "IP settings" screen as a JSON API: /api/ip-settings, behind an API key.</summary>
public static class IpSettingsApi
{
    public const int MaxCsvBytes = 4 * 1024 * 1024;

    public static IServiceCollection AddAdminApi(this IServiceCollection services)
    {
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AdminAccess>();
        services.AddSingleton<AdminWrites>();
        services.AddSingleton<IpSettingsStore>();
        services.AddSingleton<IpSettingsService>();
        services.AddSingleton<TrustedProxiesStore>();
        services.AddSingleton<TrustedProxiesService>();
        services.AddSingleton<AccountsStore>();
        services.AddSingleton<AccountsService>();
        services.AddSingleton<DefaultSipProfileService>();
        services.AddProblemDetails();
        services.AddOpenApi();
        return services;
    }

    public static RouteGroupBuilder MapAdmin(this WebApplication app)
    {
        app.MapOpenApi();
        app.MapAccounts();
        app.MapDefaultSipProfile();
        var group = app.MapAdminGroup("/api/ip-settings", "IP settings", "IP setting");

        group.MapGet("/", List).WithName("ListIpSettings");
        group.MapPost("/", Create).WithName("CreateIpSetting").ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/{id:int}", Get).WithName("GetIpSetting");
        group.MapPut("/{id:int}", Replace).WithName("ReplaceIpSetting").ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/{id:int}", Delete).WithName("DeleteIpSetting");
        group.MapPost("/delete", DeleteMany).WithName("DeleteIpSettings");
        group.MapPost("/status", SetStatus).WithName("SetIpSettingsStatus");
        group.MapGet("/problems", Problems).WithName("IpSettingProblems");
        group.MapPost("/import", Import).WithName("ImportIpSettings").Accepts<string>("text/csv").ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/export", Export).WithName("ExportIpSettings").Produces<string>(StatusCodes.Status200OK, "text/csv");
        return group;
    }

    public static async Task<Ok<IpSettingPage>> List([AsParameters] ListQuery query, AdminCaller caller, IpSettingsService service, CancellationToken ct) =>
        TypedResults.Ok(await service.ListAsync(caller, query, ct));

    public static async Task<Ok<IpSetting>> Get(int id, AdminCaller caller, IpSettingsService service, CancellationToken ct) =>
        TypedResults.Ok(await service.GetAsync(caller, id, ct));

    public static async Task<Created<IpSetting>> Create(IpSettingInput input, AdminCaller caller, IpSettingsService service, CancellationToken ct)
    {
        var created = await service.CreateAsync(caller, input, ct);
        return TypedResults.Created($"/api/ip-settings/{created.Id}", created);
    }

    public static async Task<Ok<IpSetting>> Replace(int id, IpSettingInput input, AdminCaller caller, IpSettingsService service, CancellationToken ct) =>
        TypedResults.Ok(await service.ReplaceAsync(caller, id, input, ct));

    public static async Task<NoContent> Delete(int id, AdminCaller caller, IpSettingsService service, CancellationToken ct)
    {
        await service.DeleteAsync(caller, id, ct);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<BulkResult>> DeleteMany(IdsRequest request, AdminCaller caller, IpSettingsService service, CancellationToken ct) =>
        TypedResults.Ok(await service.DeleteManyAsync(caller, request.Ids, ct));

    public static async Task<Ok<BulkResult>> SetStatus(StatusRequest request, AdminCaller caller, IpSettingsService service, CancellationToken ct) =>
        TypedResults.Ok(await service.SetStatusAsync(caller, request, ct));

    /// <summary>Read from the current snapshot (what FreeSWITCH is answered from), scoped to the caller's rules.</summary>
    public static async Task<Ok<List<IpSettingProblem>>> Problems(AdminCaller caller, IpSettingsService service, CancellationToken ct) =>
        TypedResults.Ok(await service.ProblemsAsync(caller, ct));

    public static async Task<Ok<BulkResult>> Import(HttpRequest request, AdminCaller caller, IpSettingsService service, CancellationToken ct)
    {
        if (request.ContentLength > MaxCsvBytes)
        {
            throw AdminProblemException.Invalid("csv", $"the CSV is larger than {MaxCsvBytes} bytes");
        }

        using var reader = new StreamReader(request.Body, System.Text.Encoding.UTF8);
        var text = await reader.ReadToEndAsync(ct);
        return TypedResults.Ok(await service.ImportAsync(caller, CsvRules.Read(text), ct));
    }

    public static async Task<ContentHttpResult> Export(AdminCaller caller, IpSettingsService service, CancellationToken ct) =>
        TypedResults.Text(CsvRules.Write(await service.ExportAsync(caller, ct)), "text/csv; charset=utf-8");
}
