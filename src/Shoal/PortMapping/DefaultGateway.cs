using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Shoal.PortMapping;

/// <summary>The system's default IPv4 gateway, where NAT-PMP and PCP requests go.</summary>
internal static class DefaultGateway
{
    /// <summary>The gateway of the first operational interface that has an IPv4 one; null when none does.</summary>
    public static IPAddress? Find()
    {
        try
        {
            foreach (NetworkInterface nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback) continue;
                foreach (GatewayIPAddressInformation gateway in nic.GetIPProperties().GatewayAddresses)
                {
                    if (gateway.Address.AddressFamily == AddressFamily.InterNetwork && !gateway.Address.Equals(IPAddress.Any)) return gateway.Address;
                }
            }
        }
        catch (NetworkInformationException)
        {
            // No routing information to read: same as no gateway.
        }
        return null;
    }
}
