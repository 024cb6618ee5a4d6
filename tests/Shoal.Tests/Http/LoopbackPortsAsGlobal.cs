using System.Net;
using Shoal.Http;

namespace Shoal.Tests.Http;

/// <summary>
/// The standard address scopes, except that the given ports on 127.0.0.1 count as global: a test cannot run a server
/// on a real global address, so it plays one on loopback (the SSRF mitigation then judges it as the internet).
/// </summary>
internal sealed class LoopbackPortsAsGlobal(params int[] ports) : IAddressClassifier
{
    public AddressScope Classify(IPEndPoint endPoint)
        => endPoint.Address.Equals(IPAddress.Loopback) && ports.Contains(endPoint.Port) ? AddressScope.Global : AddressClassifier.Standard.Classify(endPoint);
}
