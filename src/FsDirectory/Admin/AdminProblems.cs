using FsDirectory.Database;
using MySqlConnector;

namespace FsDirectory.Admin;

/// <summary>Turns a refused admin request into RFC 7807 problem details; the transaction it came from has rolled back.</summary>
public static class AdminProblems
{
    /// <summary>
    /// An admin route group: 404 while no key is configured, 401 without a valid key (or what
    /// <paramref name="gate"/> decides), and refused requests as problem details.
    /// </summary>
    /// <param name="resource">What the group manages ("IP setting"), for the titles.</param>
    /// <param name="invalidTitle">The title of a 400; "Invalid {resource}" when not given.</param>
    public static RouteGroupBuilder MapAdminGroup(
        this IEndpointRouteBuilder app, string prefix, string tag, string resource, string? invalidTitle = null,
        Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>>? gate = null)
    {
        var group = app.MapGroup(prefix).WithTags(tag);
        group.AddEndpointFilter(gate ?? AdminAccess.RequireKey);
        group.AddEndpointFilter(AsResults(resource, invalidTitle));
        group.ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> AsResults(string resource, string? invalidTitle) =>
        async (context, next) =>
        {
            try
            {
                return await next(context);
            }
            catch (AdminProblemException problem)
            {
                var extensions = new Dictionary<string, object?>();
                if (problem.Field is not null)
                {
                    extensions["field"] = problem.Field;
                }

                if (problem.Line is not null)
                {
                    extensions["line"] = problem.Line;
                }

                if (problem.ExistingId is not null)
                {
                    extensions["existingId"] = problem.ExistingId;
                }

                return TypedResults.Problem(problem.Message, statusCode: problem.Status, title: Title(problem.Status, resource, invalidTitle), extensions: extensions);
            }
            catch (Exception ex) when (ex is MySqlException || DatabaseConnector.IsNodeFailure(ex))
            {
                var problem = AdminWrites.DatabaseUnavailable(ex);
                return TypedResults.Problem(problem.Message, statusCode: problem.Status, title: Title(problem.Status, resource, invalidTitle));
            }
        };

    private static string Title(int status, string resource, string? invalidTitle) => status switch
    {
        StatusCodes.Status403Forbidden => "Forbidden",
        StatusCodes.Status404NotFound => "Not found",
        StatusCodes.Status409Conflict => $"Conflicts with an existing {resource}",
        StatusCodes.Status503ServiceUnavailable => "Database unavailable",
        _ => invalidTitle ?? $"Invalid {resource}",
    };
}
