using FsDirectory.FreeSwitch;

namespace FsDirectory.Tests.FreeSwitch;

public sealed class LogTextTests
{
    [Fact]
    public void Control_characters_cannot_forge_a_new_log_line()
    {
        Assert.Equal("555?INFO forged?x", LogText.Bounded("555\nINFO forged\rx"));
    }

    [Fact]
    public void Long_caller_values_are_cut_to_a_bounded_length()
    {
        var logged = LogText.Bounded(new string('9', 10_000));

        Assert.Equal(LogText.MaxLength + 1, logged.Length);
        Assert.EndsWith("…", logged);
    }

    [Fact]
    public void Ordinary_values_are_logged_unchanged()
    {
        Assert.Equal("12345678*12066418000", LogText.Bounded("12345678*12066418000"));
    }
}
