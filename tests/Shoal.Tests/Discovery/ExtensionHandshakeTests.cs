using System.Net;
using System.Text;
using Shoal.Discovery;

namespace Shoal.Tests.Discovery;

public sealed class ExtensionHandshakeTests
{
    private static ExtensionHandshake Parse(string bencode) => ExtensionHandshake.Parse(Encoding.Latin1.GetBytes(bencode));

    [Fact]
    public void ParsesTheBep10Example()
    {
        ExtensionHandshake h = ExtensionHandshake.Parse(Encoding.UTF8.GetBytes("d1:md11:LT_metadatai1e7:\u00b5T_PEXi2ee1:pi6881e1:v13:\u00b5Torrent 1.2e"));
        Assert.Equal(6881, h.ListenPort);
        Assert.Equal(1, h.GetId("LT_metadata"));
        Assert.Equal(2, h.GetId("\u00b5T_PEX"));
        Assert.Equal("\u00b5Torrent 1.2", h.ClientVersion);
        Assert.False(h.Supports("ut_pex"));
        Assert.Null(h.YourIp);
    }

    [Fact]
    public void ParsesEveryField()
    {
        var original = ExtensionHandshake.CreateLocal(51413, "Shoal 0.1", 31337, IPAddress.Parse("10.1.2.3"), 500, uploadOnly: true) with
        {
            Ipv4 = IPAddress.Parse("192.0.2.7"),
            Ipv6 = IPAddress.Parse("2001:db8::1"),
            PrefersEncryption = true,
        };
        ExtensionHandshake parsed = ExtensionHandshake.Parse(original.Encode());
        Assert.Equal(ExtensionIds.Metadata, parsed.GetId(ExtensionIds.MetadataName));
        Assert.Equal(ExtensionIds.Pex, parsed.GetId(ExtensionIds.PexName));
        Assert.Equal(2, parsed.Extensions.Count);
        Assert.Equal(51413, parsed.ListenPort);
        Assert.Equal("Shoal 0.1", parsed.ClientVersion);
        Assert.Equal(IPAddress.Parse("10.1.2.3"), parsed.YourIp);
        Assert.Equal(IPAddress.Parse("192.0.2.7"), parsed.Ipv4);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), parsed.Ipv6);
        Assert.Equal(500, parsed.RequestQueue);
        Assert.Equal(31337, parsed.MetadataSize);
        Assert.True(parsed.UploadOnly);
        Assert.True(parsed.PrefersEncryption);
        Assert.Equal(original.Encode(), parsed.Encode());
    }

    [Fact]
    public void EncodesCanonicallyWithSortedKeys()
    {
        byte[] bytes = ExtensionHandshake.CreateLocal(6881, null, 100).Encode();
        Assert.Equal("d1:md11:ut_metadatai1e6:ut_pexi2ee13:metadata_sizei100e1:pi6881ee", Encoding.ASCII.GetString(bytes));
    }

    [Fact]
    public void YourIpAcceptsIpv6()
    {
        byte[] ip = IPAddress.Parse("2001:db8::42").GetAddressBytes();
        byte[] payload = [.. "d6:yourip16:"u8, .. ip, (byte)'e'];
        Assert.Equal(IPAddress.Parse("2001:db8::42"), ExtensionHandshake.Parse(payload).YourIp);
    }

    [Theory]
    [InlineData("d1:pi0ee")]
    [InlineData("d1:pi65536ee")]
    [InlineData("d1:p4:6881e")]
    [InlineData("d1:pi-1ee")]
    public void IgnoresABadPort(string bencode) => Assert.Null(Parse(bencode).ListenPort);

    [Fact]
    public void IgnoresWronglyTypedOptionalKeysAndUnknownKeys()
    {
        ExtensionHandshake h = Parse("d1:ei1e1:m5:hello13:metadata_size3:big1:pli1ee4:reqqi0e11:upload_onlyle1:vi5e6:yourip3:abc5:zzzzzd1:ali1eeee");
        Assert.Empty(h.Extensions);
        Assert.True(h.PrefersEncryption);
        Assert.Null(h.MetadataSize);
        Assert.Null(h.ListenPort);
        Assert.Null(h.RequestQueue);
        Assert.False(h.UploadOnly);
        Assert.Null(h.ClientVersion);
        Assert.Null(h.YourIp);
    }

    [Fact]
    public void IgnoresBadExtensionEntriesAndKeepsDisabledOnes()
    {
        ExtensionHandshake h = Parse("d1:md1:ai256e1:bi-1e1:c1:x1:di0e1:ei7eee");
        Assert.Equal(2, h.Extensions.Count);
        Assert.Equal(0, h.Extensions["d"]);
        Assert.False(h.Supports("d"));
        Assert.Equal(7, h.GetId("e"));
    }

    [Fact]
    public void KeepsAtMost64ExtensionsAndIgnoresLongNames()
    {
        var sb = new StringBuilder("d1:md");
        string longName = new('z', ExtensionHandshake.MaxNameLength + 1);
        var names = new List<string>();
        for (int i = 0; i < 100; i++) names.Add($"x{i:D3}");
        names.Add(longName);
        names.Sort(StringComparer.Ordinal);
        foreach (string name in names) sb.Append(name.Length).Append(':').Append(name).Append("i1e");
        sb.Append("ee");
        ExtensionHandshake h = Parse(sb.ToString());
        Assert.Equal(ExtensionHandshake.MaxExtensions, h.Extensions.Count);
        Assert.False(h.Extensions.ContainsKey(longName));
    }

    [Theory]
    [InlineData("")]
    [InlineData("le")]
    [InlineData("i5e")]
    [InlineData("d1:pi1e")]
    [InlineData("d1:pi1e1:ai1ee")]
    [InlineData("d1:pi1eexx")]
    public void RejectsMalformedBencode(string bencode) =>
        Assert.Throws<ExtensionMessageException>(() => Parse(bencode));

    [Fact]
    public void RejectsAnOversizedPayload()
    {
        byte[] big = Encoding.ASCII.GetBytes("d1:v" + (ExtensionHandshake.MaxPayloadLength) + ":" + new string('a', ExtensionHandshake.MaxPayloadLength) + "e");
        Assert.Throws<ExtensionMessageException>(() => ExtensionHandshake.Parse(big));
    }

    [Fact]
    public void MergeUpdatesFieldsAndDisablesExtensions()
    {
        ExtensionHandshake first = Parse("d1:md11:ut_metadatai3e6:ut_pexi4ee1:pi1000e1:v3:onee");
        ExtensionHandshake update = Parse("d1:md8:ut_dontei9e6:ut_pexi0ee11:upload_onlyi1ee");
        ExtensionHandshake merged = first.MergeWith(update);
        Assert.Equal(3, merged.GetId("ut_metadata"));
        Assert.False(merged.Supports("ut_pex"));
        Assert.Equal(9, merged.GetId("ut_donte"));
        Assert.Equal(1000, merged.ListenPort);
        Assert.Equal("one", merged.ClientVersion);
        Assert.True(merged.UploadOnly);
    }
}
