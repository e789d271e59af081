using System.Text;
using FsDirectory.Admin;
using Microsoft.AspNetCore.Mvc;

namespace FsDirectory.AdminConsole.Pages.IpSettings;

/// <summary>CSV export and import, as /api/ip-settings/export and /import: every line is created or none, a refused line is named.</summary>
[RequestFormLimits(MultipartBodyLengthLimit = IpSettingsApi.MaxCsvBytes + 64 * 1024)]
[RequestSizeLimit(IpSettingsApi.MaxCsvBytes + 64 * 1024)]
public sealed class CsvModel(IpSettingsService rules) : ConsolePageModel
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnGetExportAsync(CancellationToken ct)
    {
        var csv = CsvRules.Write(await rules.ExportAsync(Caller, ct));
        return File(Encoding.UTF8.GetBytes(csv), "text/csv; charset=utf-8", $"ip-settings-{DateTime.UtcNow:yyyyMMdd-HHmmss}.csv");
    }

    public async Task<IActionResult> OnPostAsync(IFormFile? file, CancellationToken ct)
    {
        if (file is null || file.Length == 0)
        {
            Error = "Choose a CSV file to import.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        try
        {
            if (file.Length > IpSettingsApi.MaxCsvBytes)
            {
                throw AdminProblemException.Invalid("csv", $"the CSV is larger than {IpSettingsApi.MaxCsvBytes} bytes");
            }

            using var reader = new StreamReader(file.OpenReadStream(), Encoding.UTF8);
            var done = await rules.ImportAsync(Caller, CsvRules.Read(await reader.ReadToEndAsync(ct)), ct);
            Notice = $"{done.Count} IP setting(s) imported from {file.FileName}.";
            return RedirectToPage("/IpSettings/Index", new { sort = "-id" });
        }
        catch (AdminProblemException problem)
        {
            Error = $"Nothing was imported: {problem.Message}";
            Response.StatusCode = problem.Status;
            return Page();
        }
    }
}
