using Microsoft.AspNetCore.Http.HttpResults;

namespace FsDirectory.Admin;

/// <summary>/api/accounts: the account picker's search and the account's "IP only" switch, behind the admin API key.</summary>
public static class AccountsApi
{
    public static RouteGroupBuilder MapAccounts(this IEndpointRouteBuilder app)
    {
        var group = app.MapAdminGroup("/api/accounts", "Accounts", "account", invalidTitle: "Invalid account request");
        group.MapGet("/", Search).WithName("SearchAccounts");
        group.MapGet("/{id:int}", Get).WithName("GetAccount");
        group.MapPut("/{id:int}/ip-only", SetIpOnly).WithName("SetAccountIpOnly");
        return group;
    }

    public static async Task<Ok<AccountPage>> Search([AsParameters] AccountQuery query, AdminCaller caller, AccountsService service, CancellationToken ct) =>
        TypedResults.Ok(await service.SearchAsync(caller, query, ct));

    public static async Task<Ok<AccountSummary>> Get(int id, AdminCaller caller, AccountsService service, CancellationToken ct) =>
        TypedResults.Ok(await service.GetAsync(caller, id, ct));

    public static async Task<Ok<AccountSummary>> SetIpOnly(int id, IpOnlyChange change, AdminCaller caller, AccountsService service, CancellationToken ct) =>
        TypedResults.Ok(await service.SetIpOnlyAsync(caller, id, change, ct));
}
