using Microsoft.Extensions.Options;

namespace FsDirectory.EventSocket;

public static class EventSocketRegistration
{
    public static IServiceCollection AddEventSocketPush(this IServiceCollection services)
    {
        services.AddOptions<EventSocketOptions>().BindConfiguration(EventSocketOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<EventSocketOptions>, EventSocketOptionsValidator>();
        services.AddSingleton<ServedConfiguration>();
        services.AddSingleton<EventSocketPublisher>();
        services.AddHostedService(sp => sp.GetRequiredService<EventSocketPublisher>());
        return services;
    }
}
