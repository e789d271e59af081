using Prometheus;

namespace FsDirectory.Metrics;

public static class MetricsEndpoints
{
    /// <summary>Prometheus text format at <c>/metrics</c>. It reveals counts, never data; put it behind the same network policy as the health endpoints.</summary>
    public static IEndpointRouteBuilder MapFsDirectoryMetrics(this IEndpointRouteBuilder app)
    {
        var registry = app.ServiceProvider.GetRequiredService<FsDirectoryMetrics>().Registry;
        app.MapMetrics("/metrics", registry);
        return app;
    }
}
