using FsDirectory.Acl;
using FsDirectory.Directory;
using FsDirectory.IpAuth;
using FsDirectory.Limits;
using FsDirectory.Profiles;
using FsDirectory.Snapshots;
using FsDirectory.Xml;

namespace FsDirectory.FreeSwitch;

/// <summary>Routes a fetch to the answer for its section; anything not served is <c>not found</c>.</summary>
public sealed class FreeSwitchAnswers(DirectoryAnswers directory, DialplanAnswers dialplan, AclConfAnswers acl, SofiaConfAnswers sofia, HashConfAnswers hash)
{
    public DialplanAnswers Dialplan => dialplan;

    public XmlAnswer Answer(FreeSwitchRequest request, Snapshot snapshot)
    {
        // FreeSWITCH compares section names case-insensitively.
        var section = request.Section.ToLowerInvariant();
        return section switch
        {
            "directory" => directory.Answer(request, snapshot),
            "dialplan" => dialplan.Answer(request, snapshot),
            "configuration" => request.KeyValue switch
            {
                "acl.conf" => acl.Answer(snapshot),
                "sofia.conf" => sofia.Answer(request, snapshot),
                HashConfAnswers.ConfigurationName => hash.Answer(request),
                _ => XmlAnswer.NotFound,
            },
            _ => XmlAnswer.NotFound,
        };
    }
}
