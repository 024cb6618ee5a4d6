using System.Net;
using Shoal.Dht;

namespace Shoal.Tests.Dht;

/// <summary>
/// An in-memory datagram network on a <see cref="VirtualTimeProvider"/>: each datagram is delivered after a one-way
/// latency (with jitter) unless it is dropped (a fixed fraction, from a seeded random), or its destination is gone.
/// </summary>
internal sealed class SimulatedNetwork(VirtualTimeProvider time, Random random, TimeSpan oneWayLatency, TimeSpan jitter, double lossRate)
{
    private readonly Dictionary<IPEndPoint, Endpoint> _endpoints = [];

    public long Sent { get; private set; }

    public long Dropped { get; private set; }

    public VirtualTimeProvider Time => time;

    public IDatagramTransport Attach(IPEndPoint address)
    {
        var endpoint = new Endpoint(this, address);
        _endpoints.Add(address, endpoint);
        return endpoint;
    }

    /// <summary>The host vanishes without warning: its datagrams are lost from now on.</summary>
    public void Disconnect(IPEndPoint address) => _endpoints.Remove(address);

    private void Send(Endpoint from, ReadOnlySpan<byte> datagram, IPEndPoint to)
    {
        Sent++;
        if (random.NextDouble() < lossRate)
        {
            Dropped++;
            return;
        }
        byte[] copy = datagram.ToArray();
        var delay = oneWayLatency + TimeSpan.FromTicks((long)(jitter.Ticks * ((random.NextDouble() * 2) - 1)));
        time.Schedule(delay, () =>
        {
            if (_endpoints.TryGetValue(to, out Endpoint? target) && _endpoints.ContainsKey(from.LocalEndPoint)) target.Deliver(copy, from.LocalEndPoint);
        });
    }

    private sealed class Endpoint(SimulatedNetwork network, IPEndPoint address) : IDatagramTransport
    {
        private DatagramReceiver? _receiver;

        public IPEndPoint LocalEndPoint => address;

        public void Send(ReadOnlySpan<byte> datagram, IPEndPoint destination) => network.Send(this, datagram, destination);

        public void Start(DatagramReceiver receiver) => _receiver = receiver;

        public void Deliver(byte[] datagram, IPEndPoint source) => _receiver?.Invoke(datagram, source);

        public ValueTask DisposeAsync()
        {
            network.Disconnect(address);
            return ValueTask.CompletedTask;
        }
    }
}
