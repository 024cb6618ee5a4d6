using System.Net;

namespace Shoal.PortMapping;

/// <summary>
/// Port mapping through PCP, or NAT-PMP when the gateway only speaks that, at the default gateway (or the configured
/// one). Each mapping keeps its PCP nonce across renewals; renewal comes at half the lifetime, the shorter of the one
/// asked for and the one granted (miniupnpd, for one, grants PCP mappings at least 120 s whatever is asked).
/// </summary>
internal sealed class NatPmpMethod(PortMappingOptions options, IMappingReporter reporter) : IMappingMethod
{
    private readonly Dictionary<MappingRequest, (byte[] Nonce, int ExternalPort)> _mapped = [];
    private readonly Dictionary<MappingRequest, byte[]> _nonces = [];
    private NatPmpClient? _client;

    public string Name => _client?.SpeaksPcp == true ? "PCP" : "NAT-PMP";

    public async Task<TimeSpan> MapAllAsync(IReadOnlyList<MappingRequest> requests, CancellationToken cancellationToken)
    {
        _client ??= CreateClient();
        uint asked = (uint)Math.Clamp(options.NatPmpLifetime.TotalSeconds, 1, uint.MaxValue);
        uint shortest = asked;
        Exception? firstFailure = null;
        IPAddress? natPmpExternal = null; // asked once per cycle, not once per port
        foreach (MappingRequest request in requests)
        {
            if (!_nonces.TryGetValue(request, out byte[]? nonce)) _nonces[request] = nonce = NatPmpClient.NewNonce();
            int suggested = _mapped.TryGetValue(request, out var current) ? current.ExternalPort : request.Port;
            try
            {
                MappingGrant grant = await _client.MapAsync(nonce, request.Protocol, request.Port, suggested, asked, cancellationToken).ConfigureAwait(false);
                bool fresh = !_mapped.ContainsKey(request);
                _mapped[request] = (nonce, grant.ExternalPort);
                shortest = Math.Min(shortest, Math.Max(grant.LifetimeSeconds, 2));
                IPAddress? external = grant.ExternalAddress;
                if (external is null || external.Equals(IPAddress.Any))
                    external = natPmpExternal ??= await _client.GetExternalAddressAsync(cancellationToken).ConfigureAwait(false);
                if (!external.Equals(IPAddress.Any)) reporter.ReportExternalAddress(external, Name);
                reporter.Report(new PortMappingStatus(Name, request.Protocol, request.Port, grant.ExternalPort, external,
                    options.Time.GetUtcNow() + TimeSpan.FromSeconds(grant.LifetimeSeconds), null));
                reporter.Log($"{Name} {(fresh ? "mapped" : "renewed")} {request} -> {external}:{grant.ExternalPort} for {grant.LifetimeSeconds} s (gateway {_client.Gateway})");
            }
            catch (PortMappingException ex)
            {
                firstFailure ??= ex;
                reporter.Report(new PortMappingStatus(Name, request.Protocol, request.Port, null, null, null, ex.Message));
            }
        }
        if (firstFailure is not null) throw new PortMappingException(firstFailure.Message, firstFailure);
        return TimeSpan.FromSeconds(shortest / 2.0);
    }

    public async Task RemoveAllAsync(CancellationToken cancellationToken)
    {
        if (_client is null) return;
        foreach ((MappingRequest request, (byte[] nonce, int _)) in _mapped.ToArray())
        {
            try
            {
                await _client.MapAsync(nonce, request.Protocol, request.Port, 0, 0, cancellationToken).ConfigureAwait(false);
                reporter.Log($"{Name} removed {request} (gateway {_client.Gateway})");
            }
            catch (Exception ex) when (ex is PortMappingException or OperationCanceledException)
            {
                reporter.Log($"{Name} could not remove {request}: {ex.Message}");
            }
            _mapped.Remove(request);
        }
    }

    public ValueTask DisposeAsync()
    {
        _client?.Dispose();
        return ValueTask.CompletedTask;
    }

    private NatPmpClient CreateClient()
    {
        IPAddress gateway = options.Gateway ?? DefaultGateway.Find()
            ?? throw new PortMappingException("no default IPv4 gateway in the routing table");
        return new NatPmpClient(gateway, options);
    }
}
