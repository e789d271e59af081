using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace FsDirectory.AdminConsole;

/// <summary>
/// The console's stylesheet and script, compiled into the assembly as embedded resources: nothing to deploy
/// beside the service, nothing fetched from a CDN (switch networks are often offline). URLs carry a content
/// hash, so a browser may cache them for a year and still never runs a stale script after an upgrade.
/// </summary>
public static class ConsoleAssets
{
    private const string ResourcePrefix = "console-assets/";

    private static readonly FrozenDictionary<string, Asset> Assets = Load();

    /// <summary>The versioned URL of an asset, e.g. /console/assets/console.css?v=1a2b3c4d5e6f.</summary>
    public static string Url(string name) => $"{ConsoleComposition.PathPrefix}/assets/{name}?v={Assets[name].Version}";

    public static IEndpointConventionBuilder MapConsoleAssets(this IEndpointRouteBuilder app) =>
        app.MapGet(ConsoleComposition.PathPrefix + "/assets/{name}", Serve).ExcludeFromDescription();

    public static IResult Serve(string name, string? v, HttpContext context)
    {
        if (!Assets.TryGetValue(name, out var asset))
        {
            return Results.NotFound();
        }

        var headers = context.Response.Headers;
        headers.CacheControl = v == asset.Version ? "public, max-age=31536000, immutable" : "no-cache";
        headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch.Contains(asset.ETag))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(asset.Content, asset.ContentType);
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var version = Convert.ToHexStringLower(SHA256.HashData(content))[..12];
            var name = resource[ResourcePrefix.Length..];
            var type = Path.GetExtension(name) switch
            {
                ".css" => "text/css; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            assets[name] = new Asset(content, type, version, new EntityTagHeaderValue($"\"{version}\"").ToString());
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private sealed record Asset(byte[] Content, string ContentType, string Version, string ETag);
}
