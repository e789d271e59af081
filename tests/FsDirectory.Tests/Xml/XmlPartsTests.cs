using System.Text;
using FsDirectory.Xml;
using Microsoft.AspNetCore.Http;

namespace FsDirectory.Tests.Xml;

public sealed class XmlPartsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(XmlParts.ChunkLength + 16)]
    [InlineData(3 * XmlParts.ChunkLength + 21)]
    public async Task Parts_across_chunks_are_served_and_hashed_in_order_as_one_document(int count)
    {
        var builder = new XmlParts.Builder();
        var expected = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            var text = $"<node n=\"{i}\"/>";
            expected.Append(text);
            builder.Add(Encoding.UTF8.GetBytes(text));
        }

        var parts = builder.ToParts();
        var answer = new XmlAnswer(parts, "answered");
        var context = new DefaultHttpContext { Response = { Body = new MemoryStream() } };
        await answer.ExecuteAsync(context);

        Assert.Equal(count, parts.Count);
        Assert.Equal(expected.Length, parts.Length);
        Assert.Equal(expected.Length, context.Response.ContentLength);
        Assert.Equal(expected.ToString(), Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray()));
        Assert.Equal(expected.ToString(), answer.ToString());
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(expected.ToString())), answer.Sha256());
    }
}
