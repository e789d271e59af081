using FsDirectory.Admin;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;

namespace FsDirectory.AdminConsole.Pages;

/// <summary>Takes an admin API key once and starts a session; the key is never stored, echoed or logged.</summary>
public sealed partial class LoginModel(AdminAccess access, LoginThrottle throttle, ILogger<ConsoleLog> logger) : ConsolePageModel
{
    [BindProperty]
    public string? Key { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? KeyError { get; private set; }

    public IActionResult OnGet() =>
        User.Identity?.IsAuthenticated == true ? BackTo(ReturnUrl) : Page();

    public async Task<IActionResult> OnPostAsync()
    {
        var client = HttpContext.Connection.RemoteIpAddress;
        if (throttle.IsBlocked(client))
        {
            KeyError = $"Too many refused keys from this address: try again in {LoginThrottle.Window.TotalMinutes:F0} minutes.";
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            return Page();
        }

        var key = access.Find(Key);
        if (key is null)
        {
            throttle.Failed(client);
            LogRefused(client?.ToString() ?? "?", string.IsNullOrEmpty(Key) ? "no key" : "unknown key");
            KeyError = "This key is not valid.";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }

        await HttpContext.SignInAsync(ConsoleSession.Scheme, ConsoleSession.Principal(key), new AuthenticationProperties { IsPersistent = true });
        LogSignedIn(key.Name, client?.ToString() ?? "?");
        return BackTo(ReturnUrl);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Admin console: sign-in from {Remote} refused: {Reason}")]
    private partial void LogRefused(string remote, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin console: {Name} signed in from {Remote}")]
    private partial void LogSignedIn(string name, string remote);
}
