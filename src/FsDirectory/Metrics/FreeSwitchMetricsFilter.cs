using FsDirectory.FreeSwitch;
using FsDirectory.Xml;

namespace FsDirectory.Metrics;

/// <summary>Counts every fetch by section and outcome, including those the access filter refuses (it runs inside this one).</summary>
public sealed class FreeSwitchMetricsFilter(FsDirectoryMetrics metrics, TimeProvider time) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var started = time.GetTimestamp();
        var request = context.Arguments.OfType<FreeSwitchRequest>().FirstOrDefault();
        var section = FsDirectoryMetrics.SectionLabel(request?.Section ?? string.Empty);
        string outcome = "error";
        try
        {
            var result = await next(context);
            outcome = Outcome(result);
            return result;
        }
        finally
        {
            metrics.Requests.WithLabels(section, outcome).Inc();
            metrics.Duration.WithLabels(section).Observe(time.GetElapsedTime(started).TotalSeconds);
        }
    }

    private static string Outcome(object? result) => result switch
    {
        XmlAnswer answer => answer.Outcome switch
        {
            "answered" => "answered",
            "not found" => "not_found",
            "rejected" => "rejected",
            _ => "answered",
        },
        IStatusCodeHttpResult { StatusCode: StatusCodes.Status503ServiceUnavailable } => "unavailable",
        IStatusCodeHttpResult { StatusCode: >= 400 and < 500 } => "refused",
        IStatusCodeHttpResult { StatusCode: >= 500 } => "error",
        _ => "answered",
    };
}
