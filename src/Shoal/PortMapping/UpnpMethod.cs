using System.Net;
using System.Net.Sockets;

namespace Shoal.PortMapping;

/// <summary>
/// Port mapping through a UPnP Internet Gateway Device: SSDP discovery, the device description, then
/// AddPortMapping for every port, renewed at half the lease (gateways that only keep permanent leases, error 725,
/// get lease 0 and are still refreshed, in case they reboot), and DeletePortMapping at the end.
/// </summary>
internal sealed class UpnpMethod(PortMappingOptions options, IMappingReporter reporter) : IMappingMethod
{
    private readonly UpnpSoapClient _soap = new(options);
    private readonly Dictionary<MappingRequest, int> _mapped = [];
    private IgdDescription? _device;
    private IgdDescription? _lastDevice; // kept after a failure so the end can still delete what it mapped
    private IPAddress? _internalClient;
    private bool _permanentOnly;

    public string Name => "UPnP";

    public async Task<TimeSpan> MapAllAsync(IReadOnlyList<MappingRequest> requests, CancellationToken cancellationToken)
    {
        try
        {
            return await MapOnceAsync(requests, cancellationToken).ConfigureAwait(false);
        }
        catch (PortMappingException) when (_device is not null)
        {
            // The gateway may have gone away or rebooted: the next attempt starts again from discovery.
            _device = null;
            throw;
        }
    }

    private async Task<TimeSpan> MapOnceAsync(IReadOnlyList<MappingRequest> requests, CancellationToken cancellationToken)
    {
        if (_device is null) await DiscoverAsync(cancellationToken).ConfigureAwait(false);
        IgdDescription device = _device!;
        IPAddress? external = null;
        try
        {
            external = await _soap.GetExternalIPAddressAsync(device, cancellationToken).ConfigureAwait(false);
            if (external is not null && !external.Equals(IPAddress.Any)) reporter.ReportExternalAddress(external, Name);
        }
        catch (UpnpException ex)
        {
            reporter.Log($"UPnP: the gateway does not tell its external address: {ex.Message}");
        }

        TimeSpan lease = options.UpnpLeaseDuration;
        Exception? firstFailure = null;
        foreach (MappingRequest request in requests)
        {
            int externalPort = _mapped.TryGetValue(request, out int current) ? current : request.Port;
            try
            {
                await AddAsync(device, request, externalPort, cancellationToken).ConfigureAwait(false);
                bool fresh = !_mapped.ContainsKey(request);
                _mapped[request] = externalPort;
                DateTimeOffset? expires = _permanentOnly ? null : options.Time.GetUtcNow() + lease;
                reporter.Report(new PortMappingStatus(Name, request.Protocol, request.Port, externalPort, external, expires, null));
                string duration = _permanentOnly ? "permanently (the gateway keeps no timed leases)" : $"for {lease.TotalSeconds:0} s";
                reporter.Log($"UPnP {(fresh ? "mapped" : "renewed")} {request} -> {external?.ToString() ?? "?"}:{externalPort} {duration} (gateway {device.ControlUrl.Authority})");
            }
            catch (PortMappingException ex)
            {
                firstFailure ??= ex;
                reporter.Report(new PortMappingStatus(Name, request.Protocol, request.Port, null, external, null, ex.Message));
            }
        }
        if (firstFailure is not null) throw new PortMappingException(firstFailure.Message, firstFailure);
        return lease / 2;
    }

    private async Task AddAsync(IgdDescription device, MappingRequest request, int externalPort, CancellationToken cancellationToken)
    {
        uint leaseSeconds = _permanentOnly ? 0 : (uint)Math.Clamp(options.UpnpLeaseDuration.TotalSeconds, 1, uint.MaxValue);
        try
        {
            await _soap.AddPortMappingAsync(device, request.Protocol, externalPort, _internalClient!, request.Port, options.Description, leaseSeconds,
                cancellationToken).ConfigureAwait(false);
        }
        catch (UpnpException ex) when (ex.Code == UpnpException.OnlyPermanentLeasesSupported && !_permanentOnly)
        {
            _permanentOnly = true;
            await _soap.AddPortMappingAsync(device, request.Protocol, externalPort, _internalClient!, request.Port, options.Description, 0,
                cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task DiscoverAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<Uri> locations = await SsdpDiscovery.SearchAsync(options, reporter.Log, cancellationToken).ConfigureAwait(false);
        if (locations.Count == 0)
            throw new PortMappingException($"no UPnP gateway answered a search on {options.SsdpEndPoint} within {options.DiscoveryTimeout.TotalSeconds:0.#} s");
        PortMappingException? last = null;
        foreach (Uri location in locations)
        {
            try
            {
                string xml = await _soap.GetDescriptionAsync(location, cancellationToken).ConfigureAwait(false);
                IgdDescription device = IgdDescription.Parse(xml, location);
                _internalClient = LocalAddressTowards(device.ControlUrl);
                _device = _lastDevice = device;
                reporter.Log($"UPnP: gateway {location} ({device.ServiceType}), our address {_internalClient}");
                return;
            }
            catch (PortMappingException ex)
            {
                last = ex;
                reporter.Log($"UPnP: skipped {location}: {ex.Message}");
            }
        }
        throw last!;
    }

    /// <summary>Our address on the gateway's network: what the gateway must forward to (NewInternalClient).</summary>
    private IPAddress LocalAddressTowards(Uri controlUrl)
    {
        var address = IPAddress.Parse(controlUrl.Host.Trim('[', ']'));
        using Socket probe = options.CreateSocket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        probe.Connect(new IPEndPoint(address, controlUrl.Port)); // UDP connect sends nothing: it only picks the route
        return ((IPEndPoint)probe.LocalEndPoint!).Address;
    }

    public async Task RemoveAllAsync(CancellationToken cancellationToken)
    {
        if (_lastDevice is not { } device) return;
        foreach ((MappingRequest request, int externalPort) in _mapped.ToArray())
        {
            try
            {
                await _soap.DeletePortMappingAsync(device, request.Protocol, externalPort, cancellationToken).ConfigureAwait(false);
                reporter.Log($"UPnP removed {request} (gateway {device.ControlUrl.Authority})");
            }
            catch (Exception ex) when (ex is PortMappingException or OperationCanceledException)
            {
                reporter.Log($"UPnP could not remove {request}: {ex.Message}");
            }
            _mapped.Remove(request);
        }
    }

    public ValueTask DisposeAsync()
    {
        _soap.Dispose();
        return ValueTask.CompletedTask;
    }
}
