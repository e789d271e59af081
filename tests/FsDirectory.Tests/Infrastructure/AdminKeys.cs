namespace FsDirectory.Tests.Infrastructure;

/// <summary>Admin:ApiKeys settings for a test server: key, name and (for a reseller key) the reseller it is bound to.</summary>
public static class AdminKeys
{
    public static Dictionary<string, string?> Settings(params (string Key, string Name, int? ResellerId)[] keys)
    {
        var settings = new Dictionary<string, string?>();
        for (var i = 0; i < keys.Length; i++)
        {
            settings[$"Admin:ApiKeys:{i}:Key"] = keys[i].Key;
            settings[$"Admin:ApiKeys:{i}:Name"] = keys[i].Name;
            if (keys[i].ResellerId is { } reseller)
            {
                settings[$"Admin:ApiKeys:{i}:ResellerId"] = reseller.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return settings;
    }
}
