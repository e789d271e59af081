using FsDirectory.Directory;

namespace FsDirectory.Tests.Directory;

public sealed class DeviceTests
{
    private static Device Make(string vmPassword = "1001", string callerName = "Reception") => new()
    {
        Id = 1,
        Username = "1001",
        Password = "secret",
        StoredA1Hash = null,
        Params = [new("vm-password", vmPassword)],
        Variables = [new("effective_caller_id_name", callerName)],
        UserContext = null,
        AccountId = 2,
        AccountCode = "1000000001",
        ResellerId = 1,
        CredentialsDisabled = false,
    };

    [Fact]
    public void Devices_with_the_same_content_in_different_arrays_are_the_same()
    {
        Assert.True(Make().SameAs(Make()));
    }

    [Fact]
    public void A_different_param_variable_or_field_makes_a_different_device()
    {
        Assert.False(Make().SameAs(Make(vmPassword: "9999")));
        Assert.False(Make().SameAs(Make(callerName: "Sales")));
        Assert.False(Make().SameAs(Make() with { CredentialsDisabled = true }));
        Assert.False(Make().SameAs(Make() with { Params = [] }));
    }
}
