using System.IO.Pipelines;
using System.Net;
using Shoal.Transport.Encryption;

namespace Shoal.Transport;

/// <summary>
/// A connection to one peer as a pair of pipes. Swarm code depends only on this abstraction, so tests and
/// simulations can run over <see cref="InMemoryTransport"/> instead of sockets.
/// <para>
/// Completion semantics, the same for every implementation: the peer closing cleanly completes
/// <see cref="Input"/> without error; a reset, a failed send or <see cref="Abort"/> completes it with an
/// <see cref="IOException"/>. When the peer is gone, <c>Output.FlushAsync</c> reports completion or throws
/// that <see cref="IOException"/>. <see cref="IAsyncDisposable.DisposeAsync"/> completes both pipes, sends
/// what was already written (bounded by <see cref="DrainTimeout"/>), closes, and never throws.
/// </para>
/// </summary>
public abstract class PeerTransport : IDuplexPipe, IAsyncDisposable
{
    /// <summary>Longest time disposal waits for already-written data to leave before it closes hard.</summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Bytes from the peer.</summary>
    public abstract PipeReader Input { get; }

    /// <summary>Bytes to the peer; they leave when flushed.</summary>
    public abstract PipeWriter Output { get; }

    /// <summary>The peer's address.</summary>
    public abstract IPEndPoint RemoteEndPoint { get; }

    /// <summary>How the bytes travel: plain unless this is an <see cref="EncryptedTransport"/> (MSE/PE).</summary>
    public virtual PeerEncryption Encryption => PeerEncryption.None;

    /// <summary>What carries the bytes underneath (TCP unless overridden; an encrypted transport reports its inner one's).</summary>
    public virtual TransportProtocol Protocol => TransportProtocol.Tcp;

    /// <summary>
    /// Closes the connection at once, dropping unsent data; pending reads end with an
    /// <see cref="IOException"/>. Safe to call from any thread, any number of times.
    /// </summary>
    public abstract void Abort();

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();
}
