using FsDirectory.FreeSwitch;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.HttpsPolicy;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;

namespace FsDirectory.Https;

/// <summary>HTTPS for every <c>https://</c> address in <c>Urls</c>, client certificates for the switches, HSTS, and forwarded headers from known proxies only.</summary>
public static class HttpsComposition
{
    public static WebApplicationBuilder AddHttps(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<HttpsOptions>().BindConfiguration(HttpsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ForwardedHeadersSettings>().BindConfiguration(ForwardedHeadersSettings.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ServerCertificate>();
        services.AddHostedService(sp => sp.GetRequiredService<ServerCertificate>());
        services.AddHsts(_ => { });
        services.AddOptions<HstsOptions>().Configure<IOptions<HttpsOptions>>((hsts, https) =>
        {
            hsts.MaxAge = https.Value.HstsMaxAge;
            // The defaults leave out localhost and 127.0.0.1; an operator on a loopback tunnel deserves the header too.
            hsts.ExcludedHosts.Clear();
        });

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https =>
        {
            var certificate = kestrel.ApplicationServices.GetRequiredService<ServerCertificate>();
            if (certificate.Current is { } initial)
            {
                // Kestrel needs a certificate to start with; each handshake then takes the current one with its chain
                // already built (ServerCertificate.Context), so a rotation needs no restart and costs nothing per connection.
                https.ServerCertificate = initial;
                https.OnAuthenticate = (_, ssl) => ssl.ServerCertificateContext = certificate.Context;
            }

            var access = kestrel.ApplicationServices.GetRequiredService<IOptions<FreeSwitchAccessOptions>>().Value;
            if (access.ClientCertificate == SwitchCertificates.Required)
            {
                // Asked for, not demanded: the admin API and the console share the listener without one. The TLS layer
                // accepts any certificate; /freeswitch checks it against TrustedCaFile (ClientCertificateTrust), so a
                // refusal is a counted, logged 403 instead of a handshake failure nobody sees.
                https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                https.ClientCertificateValidation = static (_, _, _) => true;
                // Revocation is not checked (ClientCertificateTrust says why); asking SslStream to would cost every handshake.
                https.CheckCertificateRevocation = false;
            }
        }));
        return builder;
    }

    /// <summary>First in the pipeline: forwarded headers rewrite the client address before anything reads it.</summary>
    public static WebApplication UseHttpsAndForwardedHeaders(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<IOptions<ForwardedHeadersSettings>>().Value;
        if (settings.KnownProxies.Count > 0 || settings.KnownNetworks.Count > 0)
        {
            var forwarded = new ForwardedHeadersOptions
            {
                ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
                // Only the proxy's own entry: anything further left in X-Forwarded-For was written by the client.
                ForwardLimit = 1,
            };
            // The defaults trust loopback; only what the operator listed is trusted.
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in settings.KnownProxies)
            {
                forwarded.KnownProxies.Add(System.Net.IPAddress.Parse(proxy));
            }

            foreach (var network in settings.KnownNetworks)
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }

            app.UseForwardedHeaders(forwarded);
        }

        app.UseHsts();
        return app;
    }
}
