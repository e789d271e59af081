using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.Core.Infrastructure;

namespace FsDirectory.AdminConsole;

/// <summary>
/// A form posted without a valid antiforgery token (another site's form, or a page left open past its session)
/// is refused with 400, as Razor Pages does, but with a page that says what happened instead of an empty body.
/// </summary>
public sealed partial class AntiforgeryRefusal(ILogger<ConsoleLog> logger) : IAlwaysRunResultFilter
{
    public void OnResultExecuting(ResultExecutingContext context)
    {
        if (context.Result is IAntiforgeryValidationFailedResult)
        {
            LogRefused(context.HttpContext.Connection.RemoteIpAddress?.ToString() ?? "?", context.HttpContext.Request.Path);
            context.Result = new ContentResult
            {
                StatusCode = StatusCodes.Status400BadRequest,
                ContentType = "text/html; charset=utf-8",
                Content = """
                    <!DOCTYPE html>
                    <html lang="en"><head><meta charset="utf-8"><title>Form refused · FsDirectory</title></head>
                    <body><main><h1>Form refused</h1>
                    <p>This form was not sent from a current console page (its security token is missing or expired), so nothing was changed.</p>
                    <p><a href="/console/ip-settings">Back to the console</a></p></main></body></html>
                    """,
            };
        }
    }

    public void OnResultExecuted(ResultExecutedContext context)
    {
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Admin console: a form post from {Remote} to {Path} was refused: missing or invalid antiforgery token")]
    private partial void LogRefused(string remote, string path);
}
