using FsDirectory.Tests.Infrastructure;
using static FsDirectory.Tests.Infrastructure.FreeSwitchXml;

namespace FsDirectory.Tests.ChangeFeed;

/// <summary>What the change-feed tests write and ask: an IP rule for account 2, and whether a call from an address is let in.</summary>
public static class FeedTestCalls
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    public static FreeSwitchForm Call(string source) =>
        FreeSwitchForm.Load("dialplan-plus-number")
            .With("Caller-Network-Addr", source).With("Hunt-Network-Addr", source)
            .With("variable_sofia_profile_name", "default");

    public static async Task<bool> AcceptedAsync(FsDirectoryServer server, string source) =>
        Actions(await server.FetchAsync(Call(source))).Any(a => a.Application == "transfer");

    public static string InsertRule(string ip, string context = "default") =>
        $"INSERT INTO ip_map (name, ip, accountid, reseller_id, pricelist_id, sip_profile_id, prefix, context, status) VALUES ('feed test', '{ip}', 2, 0, 0, 0, '', '{context}', 0)";
}
