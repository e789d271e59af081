using Microsoft.Extensions.Options;

namespace FsDirectory.Cluster;

public static class ClusterRegistration
{
    public static IServiceCollection AddCluster(this IServiceCollection services)
    {
        services.AddOptions<ClusterOptions>().BindConfiguration(ClusterOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ClusterOptions>, ClusterOptionsValidator>();
        services.AddSingleton(static sp => InstanceIdentity.Create(sp.GetRequiredService<IOptions<ClusterOptions>>()));
        services.AddSingleton<ClusterStore>();
        services.AddSingleton<PushLease>();
        services.AddSingleton<ClusterCoordinator>();
        services.AddHostedService(static sp => sp.GetRequiredService<ClusterCoordinator>());
        return services;
    }
}
