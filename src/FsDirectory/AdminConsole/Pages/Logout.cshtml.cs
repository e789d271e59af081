using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;

namespace FsDirectory.AdminConsole.Pages;

/// <summary>POST only (with the antiforgery token), so another site cannot log an admin out with a link.</summary>
public sealed class LogoutModel : ConsolePageModel
{
    public IActionResult OnGet() => RedirectToPage("/IpSettings/Index");

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(ConsoleSession.Scheme);
        Notice = "You are logged out.";
        return RedirectToPage("/Login");
    }
}
