using FsDirectory.Database;
using FsDirectory.FreeSwitch;
using FsDirectory.Snapshots;
using FsDirectory.Xml;

namespace FsDirectory.Profiles;

/// <summary>
/// sofia.conf from sip_profiles and gateways. Profile and gateway settings are admin-authored switch
/// configuration, so they are the one place where <c>$${global}</c> is passed through to FreeSWITCH
/// to expand (ASTPP's own default profile relies on <c>$${local_ip_v4}</c>). Everything else the
/// service emits writes <c>$</c> as a character reference.
/// </summary>
public sealed class SofiaConfAnswers
{
    /// <summary>Settings every served profile needs unless profile_data says otherwise.</summary>
    private static readonly (string Name, string Value)[] Defaults =
    [
        ("auth-calls", "true"),
        ("accept-blind-reg", "false"),
        // Profiles loaded over HTTP without a timer can hang media applications.
        ("rtp-timer-name", "soft"),
    ];

    public XmlAnswer Answer(FreeSwitchRequest request, Snapshot snapshot)
    {
        // The second fetch of a profile start names the profile; it must get that profile or nothing.
        if (request.Profile.Length > 0)
        {
            return snapshot.FindProfile(request.Profile) is { } profile
                ? new XmlAnswer(snapshot.Answer("sofia.conf/" + profile.Name, _ => XmlParts.Of(Build([profile]))), "answered")
                : XmlAnswer.NotFound;
        }

        return snapshot.Profiles.Count == 0
            ? XmlAnswer.NotFound
            : new XmlAnswer(AllProfiles(snapshot), "answered");
    }

    /// <summary>The document with every served profile, built once per snapshot.</summary>
    public static XmlParts AllProfiles(Snapshot snapshot) => snapshot.Answer("sofia.conf", static s => XmlParts.Of(Build(s.Profiles)));

    private static byte[] Build(IReadOnlyList<SipProfile> profiles)
    {
        var xml = new FsXmlWriter(16 * 1024).StartDocument("configuration");
        xml.Start("configuration").Attr("name", "sofia.conf").Attr("description", "sofia Endpoint (FsDirectory)").Open();
        xml.Start("global_settings").Open();
        xml.Start("param").Attr("name", "log-level").Attr("value", "0").Close();
        xml.End("global_settings");
        xml.Start("profiles").Open();
        foreach (var profile in profiles)
        {
            WriteProfile(xml, profile);
        }

        xml.End("profiles").End("configuration").EndDocument();
        return xml.ToArray();
    }

    private static void WriteProfile(FsXmlWriter xml, SipProfile profile)
    {
        xml.Start("profile").Attr("name", profile.Name).Open();
        xml.Start("gateways").Open();
        foreach (var gateway in profile.Gateways)
        {
            xml.Start("gateway").Attr("name", gateway.Name, Dollar.FreeSwitchGlobal).Open();
            foreach (var (name, value) in gateway.Params)
            {
                Param(xml, name, value);
            }

            xml.End("gateway");
        }

        xml.End("gateways");
        xml.Start("settings").Open();
        var written = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (profile.SipIp.Length > 0 && written.Add("sip-ip"))
        {
            Param(xml, "sip-ip", profile.SipIp);
        }

        if (profile.SipPort.Length > 0 && written.Add("sip-port"))
        {
            Param(xml, "sip-port", profile.SipPort);
        }

        if (profile.Mode == IpAuthMode.Dialplan)
        {
            // The dialplan answer is the gatekeeper: sofia must send every INVITE to it unchallenged, and
            // must not name the customer list, which acl.conf does not serve in this mode (a missing list
            // matches nobody, so sofia would refuse every call). These win over profile_data (ASTPP's own
            // default profile says auth-calls=true and apply-inbound-acl=default). Another list the admin
            // names stays: with auth-calls=false it only filters further, it lets nobody past the dialplan.
            written.Add("auth-calls");
            Param(xml, "auth-calls", "false");
            if (profile.Params.Get("apply-inbound-acl") == profile.Name)
            {
                written.Add("apply-inbound-acl");
            }
        }

        foreach (var (name, value) in profile.Params)
        {
            if (written.Add(name))
            {
                Param(xml, name, value);
            }
        }

        // The profile's inbound ACL is the list acl.conf builds for it, unless the admin chose another.
        if (profile.Mode == IpAuthMode.Acl && written.Add("apply-inbound-acl"))
        {
            Param(xml, "apply-inbound-acl", profile.Name);
        }

        // Only with trusted proxies configured for the profile (the builder drops any from profile_data):
        // sofia then takes X-AUTH-IP from exactly the sources the dialplan answer trusts. In dialplan mode
        // sofia consults it only beside an admin's own apply-inbound-acl (sofia.c checks proxies only
        // inside its inbound ACL check); the dialplan answer trusts the same rows either way.
        if (profile.ProxyAcl is { } proxies && written.Add("apply-proxy-acl"))
        {
            Param(xml, "apply-proxy-acl", proxies);
        }

        foreach (var (name, value) in Defaults)
        {
            if (written.Add(name))
            {
                Param(xml, name, value);
            }
        }

        xml.End("settings").End("profile");
    }

    private static void Param(FsXmlWriter xml, string name, string value) =>
        xml.Start("param").Attr("name", name, Dollar.FreeSwitchGlobal).Attr("value", value, Dollar.FreeSwitchGlobal).Close();
}
