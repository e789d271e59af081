using FsDirectory.Admin;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace FsDirectory.AdminConsole;

/// <summary>What every console page shares: the caller of the session, the notice shown after a redirect, and problem details turned into field errors.</summary>
public abstract class ConsolePageModel : PageModel
{
    /// <summary>The session's key, scoped exactly as the same key is on the JSON API.</summary>
    public AdminCaller Caller => ConsoleSession.Caller(User) with { From = AdminCaller.AddressOf(HttpContext), Via = AdminCaller.ViaConsole };

    /// <summary>One line shown once on the next page (post, redirect, get).</summary>
    [TempData]
    public string? Notice { get; set; }

    /// <summary>An error shown once on the next page (a refused bulk action, after its redirect).</summary>
    [TempData]
    public string? Alert { get; set; }

    /// <summary>A refused request's message, when it names no field of the page's form.</summary>
    public string? Error { get; set; }

    /// <summary>
    /// Puts the service's refusal next to the form field it names (RFC 7807 <c>field</c>, mapped through
    /// <paramref name="fields"/>), or at the top of the page when it names none of them.
    /// </summary>
    protected void Show(AdminProblemException problem, IReadOnlyDictionary<string, string>? fields = null)
    {
        if (problem.Field is { } field && fields is not null && fields.TryGetValue(field, out var key))
        {
            ModelState.AddModelError(key, problem.Message);
        }
        else
        {
            Error = problem.Message;
        }
    }

    /// <summary>
    /// The list page asked for by <c>?page=N</c>. Razor Pages keeps the route value <c>page</c> for the page's own
    /// path, so a property bound by that name would read "/IpSettings/Index", and <c>Url.Page(..., new { page })</c>
    /// would put the number where the path goes: the number is read from, and written to, the query string by hand.
    /// </summary>
    protected int? RequestedPage =>
        int.TryParse(Request.Query["page"], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var page) ? page : null;

    /// <summary>The URL of <paramref name="pagePath"/> with <paramref name="values"/> (nulls left out) and <c>page=<paramref name="page"/></c>.</summary>
    protected string PagedUrl(string pagePath, object values, int page) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(
            Url.Page(pagePath, values)!, "page", page.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A redirect to <paramref name="returnUrl"/> when it is a console URL of this site, else to the IP settings list.</summary>
    protected IActionResult BackTo(string? returnUrl) =>
        LocalRedirect(IsConsoleUrl(returnUrl) ? returnUrl! : Url.Page("/IpSettings/Index")!);

    public bool IsConsoleUrl(string? url) =>
        !string.IsNullOrEmpty(url) && Url.IsLocalUrl(url) && (url == ConsoleComposition.PathPrefix || url.StartsWith(ConsoleComposition.PathPrefix + "/", StringComparison.Ordinal));

    /// <summary>The error of a form field, for aria-describedby / aria-invalid.</summary>
    public string? FieldError(string key) =>
        ModelState.TryGetValue(key, out var entry) && entry.ValidationState == ModelValidationState.Invalid
            ? entry.Errors.FirstOrDefault()?.ErrorMessage
            : null;
}
