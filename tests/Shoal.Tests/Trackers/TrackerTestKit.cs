using System.Net;
using Shoal.Metainfo;
using Shoal.Trackers;

namespace Shoal.Tests.Trackers;

internal static class TrackerTestKit
{
    /// <summary>A hang guard for loops driven by another thread; never a speed assertion.</summary>
    public static Task WaitUntilAsync(Func<bool> condition, string what)
        => Eventually.TrueAsync(condition, TimeSpan.FromSeconds(20), $"gave up waiting for {what}", pollMilliseconds: 5);

    public static InfoHash Hash(byte fill) => new(Enumerable.Repeat(fill, 20).ToArray());

    public static byte[] PeerId(char c) => Enumerable.Repeat((byte)c, 20).ToArray();

    public static AnnounceRequest Request(InfoHash hash, byte[] peerId, int port, long left, AnnounceEvent evt = AnnounceEvent.Started) =>
        new(hash, peerId, port, 0, 0, left, evt, 50, 7);

    public static IPEndPoint Endpoint(string text) => IPEndPoint.Parse(text);
}
