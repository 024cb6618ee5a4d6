using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace Shoal.Dht;

/// <summary>
/// The one lock of a <see cref="DhtNode"/> and the datagrams its work produces. Every event — a received datagram, a
/// timer, an API call — runs its state changes inside <see cref="Enter"/>; what it wants to send it
/// <see cref="Queue"/>s there, and the datagrams are encoded (replies trimmed to their budget by
/// <see cref="ReplyTrimmer"/>) and handed to the transport only after the lock is released: no datagram is encoded or
/// sent while the lock is held, so a slow socket or a large reply never stalls the node's other events.
/// </summary>
internal sealed class DhtGate
{
    /// <summary>The budget of a datagram that is never trimmed (our own queries).</summary>
    public const int Unbounded = int.MaxValue;

    private readonly Lock _lock = new();
    private Batch _queued = new();
    private Batch? _spare;
    private bool _closed;

    /// <summary>Where the datagrams go; set once when the node starts.</summary>
    public IDatagramTransport? Transport { get; set; }

    /// <summary>Takes the lock; disposing the scope releases it and then sends what was queued.</summary>
    public Scope Enter()
    {
        _lock.Enter();
        return new Scope(this);
    }

    /// <summary>Whether the current thread holds the lock (for assertions).</summary>
    public bool IsHeld => _lock.IsHeldByCurrentThread;

    /// <summary>Queues <paramref name="message"/> for <paramref name="to"/>, at most <paramref name="budget"/> bytes. Only inside <see cref="Enter"/>.</summary>
    public void Queue(KrpcMessage message, IPEndPoint to, int budget = Unbounded)
    {
        System.Diagnostics.Debug.Assert(IsHeld, "queue datagrams inside the gate");
        if (!_closed) _queued.Items.Add(new Outgoing(message, to, budget));
    }

    /// <summary>Drops everything queued from now on (the node is shutting down). Only inside <see cref="Enter"/>.</summary>
    public void Close()
    {
        _closed = true;
        _queued.Items.Clear();
    }

    /// <summary>Encodes and sends what is queued; called after the lock is released (several threads may flush at once).</summary>
    private void Flush()
    {
        while (true)
        {
            Batch batch;
            IDatagramTransport? transport;
            lock (_lock)
            {
                if (_queued.Items.Count == 0) return;
                batch = _queued;
                _queued = _spare ?? new Batch();
                _spare = null;
                transport = Transport;
            }
            try
            {
                if (transport is not null) Send(batch, transport);
            }
            finally
            {
                batch.Items.Clear();
                lock (_lock) _spare ??= batch;
            }
        }
    }

    private static void Send(Batch batch, IDatagramTransport transport)
    {
        AddressFamily family = transport.LocalEndPoint.AddressFamily;
        foreach (Outgoing item in batch.Items)
        {
            if (item.Message is KrpcQuery)
            {
                batch.Buffer.ResetWrittenCount();
                KrpcCodec.Encode(item.Message, batch.Buffer);
            }
            else if (!ReplyTrimmer.TryEncode(item.Message, item.To, item.Budget, family, batch.Buffer))
            {
                continue; // even the bare reply is over this source's budget: stay silent
            }
            transport.Send(batch.Buffer.WrittenSpan, item.To);
        }
    }

    /// <summary>The lock held; disposing releases it and sends what the work queued.</summary>
    public readonly ref struct Scope
    {
        private readonly DhtGate _gate;

        internal Scope(DhtGate gate) => _gate = gate;

        /// <summary>Releases the lock, then sends.</summary>
        public void Dispose()
        {
            _gate._lock.Exit();
            // A nested Enter (the same thread, already inside) leaves the sending to the outermost scope.
            if (!_gate._lock.IsHeldByCurrentThread) _gate.Flush();
        }
    }

    private readonly record struct Outgoing(KrpcMessage Message, IPEndPoint To, int Budget);

    private sealed class Batch
    {
        public readonly List<Outgoing> Items = [];
        public readonly ArrayBufferWriter<byte> Buffer = new(1500);
    }
}
