using System.Net;

namespace Shoal.PortMapping;

/// <summary>
/// Keeps a session's ports forwarded at the local gateway, in the background: UPnP IGD and PCP/NAT-PMP side by side
/// (as libtorrent does: whichever the router speaks wins, both is harmless). Each method finds its gateway, maps every
/// port, renews before the lease ends and retries a failure after each of <see cref="PortMappingOptions.RetryDelays"/>
/// before giving up for the session; every step is one log line. Start-up never waits for any of it. Learns the
/// external address on the way (<see cref="ExternalAddress"/>, <see cref="ExternalAddressChanged"/>). Disposal
/// deletes what was mapped, each method's deletions bounded by <see cref="PortMappingOptions.RemovalTimeout"/>.
/// </summary>
public sealed class PortMapper : IAsyncDisposable, IMappingReporter
{
    private readonly PortMappingOptions _options;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Method, MappingRequest Request), PortMappingStatus> _status = [];
    private readonly List<IMappingMethod> _methods = [];
    private readonly List<Task> _loops = [];
    private IPAddress? _externalAddress;
    private int _started;
    private int _disposed;

    /// <summary>Creates a mapper; nothing happens until <see cref="Start"/>.</summary>
    public PortMapper(PortMappingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>The external address the gateway last reported; null until one did.</summary>
    public IPAddress? ExternalAddress
    {
        get
        {
            lock (_lock) return _externalAddress;
        }
    }

    /// <summary>
    /// Raised (on a background thread) when a gateway reports an external address different from the last one. The
    /// session passes it on: the BEP 10 handshake's "ipv4"/"ipv6", and a BEP 42 node id for the DHT.
    /// </summary>
    public event Action<IPAddress>? ExternalAddressChanged;

    /// <summary>Every mapping asked for, per method, as last reported.</summary>
    public IReadOnlyList<PortMappingStatus> Mappings
    {
        get
        {
            lock (_lock) return [.. _status.Values];
        }
    }

    /// <summary>Starts mapping <paramref name="requests"/> in the background and returns at once. Call once.</summary>
    public void Start(IReadOnlyList<MappingRequest> requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0) throw new InvalidOperationException("the port mapper is already started");
        if (requests.Count == 0) return;
        if (_options.EnableNatPmp) _methods.Add(new NatPmpMethod(_options, this));
        if (_options.EnableUpnp) _methods.Add(new UpnpMethod(_options, this));
        foreach (IMappingMethod method in _methods) _loops.Add(Task.Run(() => RunAsync(method, requests)));
    }

    private async Task RunAsync(IMappingMethod method, IReadOnlyList<MappingRequest> requests)
    {
        CancellationToken stop = _stop.Token;
        int failures = 0;
        try
        {
            while (true)
            {
                TimeSpan wait;
                try
                {
                    wait = await method.MapAllAsync(requests, stop).ConfigureAwait(false);
                    failures = 0;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
                {
                    if (failures >= _options.RetryDelays.Count)
                    {
                        Log($"{method.Name} gave up after {failures + 1} attempts: {ex.Message}");
                        return;
                    }
                    wait = _options.RetryDelays[failures++];
                    Log($"{method.Name} failed: {ex.Message}; trying again in {Describe(wait)}");
                }
                await Task.Delay(wait, _options.Time, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    void IMappingReporter.Report(PortMappingStatus status)
    {
        lock (_lock) _status[(status.Method, new MappingRequest(status.Protocol, status.InternalPort))] = status;
    }

    void IMappingReporter.ReportExternalAddress(IPAddress address, string source)
    {
        lock (_lock)
        {
            if (address.Equals(_externalAddress)) return;
            _externalAddress = address;
        }
        Log($"external address {address} (from {source})");
        ExternalAddressChanged?.Invoke(address);
    }

    void IMappingReporter.Log(string message) => Log(message);

    private void Log(string message) => _options.Log?.Invoke("port mapping: " + message);

    private static string Describe(TimeSpan delay) => delay.TotalSeconds < 120 ? $"{delay.TotalSeconds:0} s" : $"{delay.TotalMinutes:0} min";

    /// <summary>Stops renewing and deletes every mapping made, each method's deletions bounded by the removal timeout.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        try
        {
            await Task.WhenAll(_loops).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log("a mapping loop ended with " + ex.Message);
        }
        await Task.WhenAll(_methods.Select(RemoveAsync)).ConfigureAwait(false);
        foreach (IMappingMethod method in _methods) await method.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task RemoveAsync(IMappingMethod method)
    {
        using var timeout = new CancellationTokenSource(_options.RemovalTimeout, _options.Time);
        try
        {
            await method.RemoveAllAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log($"{method.Name}: removing the mappings failed: {ex.Message}");
        }
    }
}
