using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace FsDirectory.AdminConsole.Pages;

/// <summary>/console: the IP settings list is the console's home.</summary>
public sealed class IndexModel : PageModel
{
    public IActionResult OnGet() => RedirectToPage("/IpSettings/Index");
}
