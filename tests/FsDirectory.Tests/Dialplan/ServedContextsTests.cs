using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.Dialplan;

public sealed class ServedContextsFixture : DemoServerFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["FreeSwitch:ServedContexts:0"] = "public",
    };
}

public sealed class ServedContextsTests(ServedContextsFixture fixture) : IClassFixture<ServedContextsFixture>
{
    [Fact]
    public async Task Contexts_outside_the_served_list_stay_with_the_static_dialplan()
    {
        var form = FreeSwitchForm.Load("dialplan-plus-number").With("Hunt-Network-Addr", "192.0.2.10")
            .With("variable_sofia_profile_name", "default");

        var served = await fixture.Server.FetchAsync(form);
        var other = await fixture.Server.FetchAsync(form.With("Caller-Context", "internal"));

        Assert.Equal(("transfer", "+12066418000 XML default"), Actions(served)[^1]);
        Assert.True(IsNotFound(other));
    }
}
