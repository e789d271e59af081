using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Admin;

/// <summary>Calls the admin API of a running server with a given key and returns status + JSON.</summary>
public sealed class AdminClient(HttpClient client, string? key)
{
    public AdminClient(FsDirectoryServer server, string? key)
        : this(server.Client, key)
    {
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        if (body is string text)
        {
            request.Content = new StringContent(text, Encoding.UTF8, "text/csv");
        }
        else if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await client.SendAsync(request);
        var content = await response.Content.ReadAsStringAsync();
        if (response.StatusCode >= HttpStatusCode.BadRequest && content.Length > 0)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        return (response.StatusCode, content.Length == 0 || !content.TrimStart().StartsWith('{') && !content.TrimStart().StartsWith('[')
            ? JsonSerializer.SerializeToElement(content)
            : JsonDocument.Parse(content).RootElement.Clone());
    }

    public Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, object body) => SendAsync(HttpMethod.Post, path, body);

    public async Task<int> CreateAsync(object body)
    {
        var (status, json) = await PostAsync("/api/ip-settings", body);
        Assert.True(status == HttpStatusCode.Created, json.ToString());
        return json.GetProperty("id").GetInt32();
    }
}
