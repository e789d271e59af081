using System.Text.Json;
using System.Text.Json.Serialization;

namespace FsDirectory.Cli;

// Request bodies, serialized by generated code: a native (AOT) binary cannot serialize by reflection.
// Names are camelCase (the web defaults PostAsJsonAsync used before) and nulls are sent, as they were.
internal sealed record RuleBody(string? Name, string? Ip, int? AccountId, int? ResellerId, int? SipProfileId, string? Prefix, string? Context, int Status);

internal sealed record ProxyBody(string? Name, string? Ip, int? SipProfileId, int Status);

/// <summary>delete sends only the ids; enable and disable add the status.</summary>
internal sealed record IdsBody(int[] Ids, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Status);

internal sealed record IpOnlyBody(bool IpOnly);

internal sealed record DefaultProfileBody(int SipProfileId);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(RuleBody))]
[JsonSerializable(typeof(ProxyBody))]
[JsonSerializable(typeof(IdsBody))]
[JsonSerializable(typeof(IpOnlyBody))]
[JsonSerializable(typeof(DefaultProfileBody))]
internal sealed partial class CliJson : JsonSerializerContext;
