using FsDirectory.Cli;
using FsDirectory.Tests.Infrastructure;

namespace FsDirectory.Tests.Admin;

public sealed class CliTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>, IDisposable
{
    private readonly string _directory = System.IO.Directory.CreateTempSubdirectory("fsdir-cli-").FullName;

    private async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliApp.RunAsync(["--url", fixture.Server.Address.ToString(), "--api-key", AdminApiFixture.AdminKey, .. args], stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private string File(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task The_cli_imports_lists_disables_resolves_exports_and_deletes_rules()
    {
        var count = await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map");
        var bad = File("bad.csv", "name,ip,accountId,prefix\ncli one,198.18.20.1,4,\ncli two,198.18.20.x,4,\n");
        var (exit, _, err) = await RunAsync("import", bad);
        Assert.Equal(CliApp.Refused, exit);
        Assert.Contains("400", err, StringComparison.Ordinal);
        Assert.Contains("line 3: ip '198.18.20.x'", err, StringComparison.Ordinal);
        Assert.Equal(count, await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map"));

        (exit, _, err) = await RunAsync("import", File("good.csv", "name,ip,accountId,prefix\ncli one,198.18.20.1,4,\ncli two,198.18.20.0/30,4,42\n"));
        Assert.True(exit == CliApp.Ok, err);
        Assert.Equal(count + 2, await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map"));

        var (listExit, list, _) = await RunAsync("list", "--search", "cli ");
        Assert.Equal(CliApp.Ok, listExit);
        var ids = list.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split('\t')[0]).ToArray();
        Assert.Equal(2, ids.Length);
        Assert.Contains("198.18.20.0/30\t42", list, StringComparison.Ordinal);

        var (resolveExit, resolved, _) = await RunAsync("resolve", "198.18.20.1", "5551234", "default");
        Assert.Equal(CliApp.Ok, resolveExit);
        Assert.Contains("\"accepted\": true", resolved, StringComparison.Ordinal);

        Assert.Equal(CliApp.Ok, (await RunAsync(["disable", .. ids])).Exit);
        (_, resolved, _) = await RunAsync("resolve", "198.18.20.1", "5551234", "default");
        Assert.Contains("\"accepted\": false", resolved, StringComparison.Ordinal);
        Assert.Equal(CliApp.Ok, (await RunAsync(["enable", .. ids])).Exit);

        var exported = Path.Combine(_directory, "out.csv");
        Assert.Equal(CliApp.Ok, (await RunAsync("export", exported)).Exit);
        Assert.Contains("cli two,198.18.20.0/30,4,0,42,0,default,0", System.IO.File.ReadAllText(exported), StringComparison.Ordinal);

        Assert.Equal(CliApp.Ok, (await RunAsync(["delete", .. ids])).Exit);
        Assert.Equal(count, await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM ip_map"));

        (exit, _, err) = await RunAsync("add", "--name", "cli add", "--ip", "pbx.example.com", "--account", "4");
        Assert.Equal(CliApp.Refused, exit);
        Assert.Contains("hostname", err, StringComparison.Ordinal);
        Assert.Equal(CliApp.Usage, (await RunAsync("frobnicate")).Exit);
    }

    [Fact]
    public async Task The_cli_adds_lists_and_deletes_a_trusted_proxy_and_resolves_a_relayed_call()
    {
        var (exit, resolved, _) = await RunAsync("resolve", "203.0.113.10", "12345678*5551234", "default", "--via", "127.0.0.45");
        Assert.Equal(CliApp.Ok, exit);
        Assert.Contains("\"matchedAddress\": \"127.0.0.45\"", resolved, StringComparison.Ordinal);
        Assert.Contains("is not a trusted proxy", resolved, StringComparison.Ordinal);

        var (addExit, added, addErr) = await RunAsync("proxy", "add", "--name", "cli kamailio", "--ip", "127.0.0.45", "--profile", "1");
        Assert.True(addExit == CliApp.Ok, addErr);
        var id = System.Text.Json.JsonDocument.Parse(added).RootElement.GetProperty("id").GetInt32();

        var (listExit, list, _) = await RunAsync("proxy", "list");
        Assert.Equal(CliApp.Ok, listExit);
        Assert.Contains($"{id}\tactive\t1\t127.0.0.45/32\tcli kamailio", list, StringComparison.Ordinal);

        (exit, resolved, _) = await RunAsync("resolve", "203.0.113.10", "12345678*5551234", "default", "--via", "127.0.0.45");
        Assert.Equal(CliApp.Ok, exit);
        Assert.Contains("\"accepted\": true", resolved, StringComparison.Ordinal);
        Assert.Contains("\"matchedAddress\": \"203.0.113.10\"", resolved, StringComparison.Ordinal);

        var (badExit, _, badErr) = await RunAsync("proxy", "add", "--name", "wide", "--ip", "0.0.0.0/0");
        Assert.Equal(CliApp.Refused, badExit);
        Assert.Contains("400 Invalid trusted proxy", badErr, StringComparison.Ordinal);
        Assert.Equal(CliApp.Ok, (await RunAsync("proxy", "delete", id.ToString(System.Globalization.CultureInfo.InvariantCulture))).Exit);
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT COUNT(*) FROM fsdir_trusted_proxies WHERE id = @id", new { id }));
        Assert.Equal(CliApp.Usage, (await RunAsync("proxy", "frobnicate")).Exit);
        Assert.Equal(CliApp.Usage, (await RunAsync("resolve", "203.0.113.10", "1", "default", "--via")).Exit);
    }

    [Fact]
    public async Task The_cli_reports_a_wrong_key_and_fails()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliApp.RunAsync(["--url", fixture.Server.Address.ToString(), "--api-key", "not-the-key-0123456789", "problems"], stdout, stderr);
        Assert.Equal(CliApp.Refused, exit);
        Assert.Contains("401", stderr.ToString(), StringComparison.Ordinal);
    }

    public void Dispose() => System.IO.Directory.Delete(_directory, recursive: true);
}
