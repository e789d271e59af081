using FsDirectory.Admin;

namespace FsDirectory.AdminConsole;

/// <summary>
/// The searchable account field: a search box and a list of the matching accounts (customers and providers the
/// caller may see). Without JavaScript "Find" reloads the page with the matches; with it, the list follows the typing.
/// </summary>
public sealed record AccountPicker(
    string Id, string Label, string SearchName, string SelectName, string? Search, int? Selected,
    IReadOnlyList<AccountSummary> Options, string? EmptyLabel, string? FindHandler, string? Error)
{
    public const int Shown = 20;

    public static string Describe(AccountSummary account) =>
        $"{account.Number} · {account.Name ?? "(no name)"}{(account.Type == 3 ? " · provider" : string.Empty)}{(account.Status != 0 ? " (inactive)" : string.Empty)}";

    /// <summary>The matches of <paramref name="search"/> (or the first accounts), with the selected account kept in the list.</summary>
    public static async Task<IReadOnlyList<AccountSummary>> OptionsAsync(
        AccountsService accounts, AdminCaller caller, string? search, int? selected, CancellationToken ct)
    {
        var found = (await accounts.SearchAsync(caller, new AccountQuery(search, 1, Shown), ct)).Items.ToList();
        if (selected is { } id && found.All(a => a.Id != id))
        {
            try
            {
                found.Insert(0, await accounts.GetAsync(caller, id, ct));
            }
            catch (AdminProblemException)
            {
                // Not the caller's (or gone): it is simply not offered.
            }
        }

        return found;
    }
}
