using FsDirectory.Data;
using MySqlConnector;

namespace FsDirectory.Admin;

/// <summary>Turns a refused admin request into RFC 7807 problem details; the transaction it came from has rolled back.</summary>
public static class AdminProblems
{
    /// <param name="resource">What the group manages ("IP setting"), for the titles.</param>
    public static Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> AsResults(string resource) =>
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

                return TypedResults.Problem(problem.Message, statusCode: problem.Status, title: Title(problem.Status, resource), extensions: extensions);
            }
            catch (Exception ex) when (ex is MySqlException || DatabaseConnector.IsNodeFailure(ex))
            {
                var problem = AdminWrites.DatabaseUnavailable(ex);
                return TypedResults.Problem(problem.Message, statusCode: problem.Status, title: Title(problem.Status, resource));
            }
        };

    private static string Title(int status, string resource) => status switch
    {
        StatusCodes.Status404NotFound => "Not found",
        StatusCodes.Status409Conflict => $"Conflicts with an existing {resource}",
        StatusCodes.Status503ServiceUnavailable => "Database unavailable",
        _ => $"Invalid {resource}",
    };
}
