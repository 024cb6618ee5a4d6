namespace Shoal.PortMapping;

/// <summary>One way of asking a gateway for port mappings (UPnP IGD, or PCP/NAT-PMP), driven by <see cref="PortMapper"/>.</summary>
internal interface IMappingMethod : IAsyncDisposable
{
    /// <summary>"UPnP" or "NAT-PMP" (becomes "PCP" once the gateway answered PCP).</summary>
    string Name { get; }

    /// <summary>
    /// Finds the gateway (the first time, or again after a failure), creates or renews every mapping and reports each
    /// one; returns how long until the next renewal. Throws when the gateway cannot be found or refuses.
    /// </summary>
    Task<TimeSpan> MapAllAsync(IReadOnlyList<MappingRequest> requests, CancellationToken cancellationToken);

    /// <summary>Deletes every mapping this method created.</summary>
    Task RemoveAllAsync(CancellationToken cancellationToken);
}
