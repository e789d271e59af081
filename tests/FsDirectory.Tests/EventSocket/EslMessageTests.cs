using FsDirectory.EventSocket;

namespace FsDirectory.Tests.EventSocket;

public sealed class EslMessageTests
{
    private static EslMessage Plain(string body) =>
        new(new Dictionary<string, string> { ["Content-Type"] = "text/event-plain", ["Content-Length"] = body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) }, body);

    [Fact]
    public void A_background_job_event_gives_its_url_encoded_headers_decoded_and_the_commands_output_as_body()
    {
        var e = Plain("Event-Name: BACKGROUND_JOB\nCore-UUID: 0b5b\nJob-UUID: 7f4c\nJob-Command: sofia\nJob-Command-Arg: profile%20default%20rescan\nContent-Length: 17\n\n+OK acl reloaded\nand what follows").PlainEvent()!;

        Assert.Equal("BACKGROUND_JOB", e.Headers["Event-Name"]);
        Assert.Equal("profile default rescan", e.Headers["Job-Command-Arg"]);
        Assert.Equal("+OK acl reloaded\n", e.Body);
    }

    [Theory]
    [InlineData("")]
    [InlineData("no headers at all")]
    [InlineData("Event-Name: BACKGROUND_JOB\nJob-UUID: %zz%\nContent-Length: 999999\n\nshort")]
    [InlineData("Content-Length: -1\n\n")]
    public void A_malformed_event_is_read_without_throwing(string body)
    {
        var e = Plain(body).PlainEvent();

        Assert.NotNull(e);
        Assert.Null(new EslMessage(new Dictionary<string, string> { ["Content-Type"] = "api/response" }, body).PlainEvent());
    }
}
