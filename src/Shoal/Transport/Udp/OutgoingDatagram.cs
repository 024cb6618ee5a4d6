namespace Shoal.Transport.Udp;

/// <summary>
/// One datagram of a batch handed to <see cref="UdpSocket"/> in one call: a slice of a buffer its sender keeps (uTP
/// keeps every packet until it is acked, so the batch points at those buffers instead of copying them).
/// </summary>
/// <param name="Buffer">The array holding the datagram.</param>
/// <param name="Offset">Where the datagram starts in <paramref name="Buffer"/>.</param>
/// <param name="Length">The datagram's length in bytes.</param>
internal readonly record struct OutgoingDatagram(byte[] Buffer, int Offset, int Length)
{
    /// <summary>The datagram's bytes.</summary>
    public ReadOnlySpan<byte> Span => Buffer.AsSpan(Offset, Length);
}
