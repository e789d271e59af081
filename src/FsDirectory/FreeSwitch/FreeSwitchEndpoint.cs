using FsDirectory.Snapshots;
using FsDirectory.Xml;

namespace FsDirectory.FreeSwitch;

/// <summary>The mod_xml_curl gateway URL: one endpoint for every section (<c>bindings="directory|configuration|dialplan"</c>).</summary>
public static partial class FreeSwitchEndpoint
{
    public static RouteGroupBuilder MapFreeSwitch(this IEndpointRouteBuilder app)
    {
        // FreeSWITCH posts forms without antiforgery tokens; the request binds itself (BindAsync), so
        // no [FromForm] metadata is added, and the group states it explicitly as well.
        var group = app.MapGroup("/freeswitch").DisableAntiforgery().WithTags("FreeSWITCH");
        // Metrics first: it wraps the access filter, so refused fetches are counted too. Both are single instances:
        // AddEndpointFilter<T> would build the access filter for every fetch, and with it its policy (the networks
        // parsed, the CA bundle read from disk: 0.8 ms a fetch) and its log-line cap, which then capped nothing.
        group.AddEndpointFilter(app.ServiceProvider.GetRequiredService<Metrics.FreeSwitchMetricsFilter>());
        group.AddEndpointFilter(app.ServiceProvider.GetRequiredService<FreeSwitchAccessFilter>());
        group.MapPost("", Handle).ExcludeFromDescription();
        group.MapGet("", Handle).ExcludeFromDescription();
        return group;
    }

    public static IResult Handle(FreeSwitchRequest request, SnapshotHolder snapshots, FreeSwitchAnswers answers, ILoggerFactory loggers)
    {
        if (request.Failure is not null)
        {
            // Any refusal (a status, or not found) sends the switch to its next binding and then its static
            // dialplan; on a profile in dialplan mode nothing else would stand in the caller's way.
            if (snapshots.Current is { } current && answers.Dialplan.RefuseUnreadCall(request, current) is { } refused)
            {
                LogRefused(loggers.CreateLogger(typeof(FreeSwitchEndpoint)), StatusCodes.Status200OK, request.Failure + "; answered with the dialplan's 403 (the call's profile has no other gatekeeper)");
                return refused;
            }

            var status = request.FailureStatus ?? StatusCodes.Status200OK;
            LogRefused(loggers.CreateLogger(typeof(FreeSwitchEndpoint)), status, request.Failure);
            return request.FailureStatus is null ? XmlAnswer.NotFound : Results.StatusCode(status);
        }

        // No data yet (database never reached since start): 503 makes FreeSWITCH try its next
        // binding instead of trusting an empty answer.
        if (snapshots.Current is not { } snapshot)
        {
            return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        }

        return answers.Answer(request, snapshot);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "FreeSWITCH request refused with {Status}: {Reason}")]
    private static partial void LogRefused(ILogger logger, int status, string reason);
}
