using System.Runtime.InteropServices;
using FsDirectory.Collections;
using FsDirectory.IpAuth;


namespace FsDirectory.Snapshots;

/// <summary>
/// One copy of each equal string, and of each rule's terms, for the duration of a snapshot build.
/// The driver and the JSON parser give every row its own strings, while most rows share their
/// context, prefix, name or setting keys with others, and an account's rules their terms: at a
/// million rows, one copy of each saves tens of megabytes of resident memory.
/// </summary>
public sealed class StringPool
{
    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly Dictionary<RuleTerms, RuleTerms> _terms = [];
    private readonly PackedText.Writer _texts = new();

    public RuleTerms Share(RuleTerms terms)
    {
        ref var copy = ref CollectionsMarshal.GetValueRefOrAddDefault(_terms, terms, out _);
        return copy ??= terms with { AccountCode = Share(terms.AccountCode), Context = Share(terms.Context) };
    }

    /// <summary>Where a rule's tech prefix and name are packed: equal pairs once, beside the others of this build.</summary>
    public (byte[] Block, int Offset) ShareTexts(IpRule rule) => _texts.Add(rule.PackedTexts);

    public string Share(string value)
    {
        ref var copy = ref CollectionsMarshal.GetValueRefOrAddDefault(_strings, value, out _);
        return copy ??= value;
    }

    public KeyValuePair<string, string>[] ShareKeys(IEnumerable<KeyValuePair<string, string>> fields) =>
        fields.Select(f => new KeyValuePair<string, string>(Share(f.Key), f.Value)).ToArray();
}
