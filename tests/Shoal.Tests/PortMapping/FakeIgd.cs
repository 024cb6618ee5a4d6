using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Shoal.Tests.PortMapping;

/// <summary>
/// A small UPnP gateway on 127.0.0.1 for the cases miniupnpd does not produce: it answers M-SEARCH sent to its UDP
/// port (the mapper's SSDP endpoint points there instead of the multicast group), serves a device description, and
/// answers the SOAP actions, refusing timed leases with error 725 (OnlyPermanentLeasesSupported) as some routers do.
/// One HTTP request per connection; every action is recorded.
/// </summary>
internal sealed class FakeIgd : IAsyncDisposable
{
    private readonly Socket _ssdp = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly TcpListener _http = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _ssdpLoop;
    private readonly Task _httpLoop;

    public FakeIgd()
    {
        _ssdp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _http.Start();
        _ssdpLoop = Task.Run(AnswerSearchesAsync);
        _httpLoop = Task.Run(ServeAsync);
    }

    /// <summary>Where the mapper's M-SEARCH must go.</summary>
    public IPEndPoint SsdpEndPoint => (IPEndPoint)_ssdp.LocalEndPoint!;

    /// <summary>Every SOAP action with its arguments, e.g. "AddPortMapping TCP 6881 lease 3600".</summary>
    public ConcurrentQueue<string> Actions { get; } = new();

    private int HttpPort => ((IPEndPoint)_http.LocalEndpoint).Port;

    private async Task AnswerSearchesAsync()
    {
        var buffer = new byte[2048];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _ssdp.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            string request = Encoding.ASCII.GetString(buffer, 0, received.ReceivedBytes);
            if (!request.StartsWith("M-SEARCH", StringComparison.Ordinal)) continue;
            string answer = "HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n" +
                            $"USN: uuid:fake::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nLOCATION: http://127.0.0.1:{HttpPort}/desc.xml\r\n\r\n";
            await _ssdp.SendToAsync(Encoding.ASCII.GetBytes(answer), SocketFlags.None, received.RemoteEndPoint);
        }
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _http.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            using (client)
            {
                try
                {
                    await AnswerAsync(client.GetStream());
                }
                catch (IOException)
                {
                    // the client went away
                }
            }
        }
    }

    private async Task AnswerAsync(NetworkStream stream)
    {
        var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
        string requestLine = await reader.ReadLineAsync() ?? "";
        int length = 0;
        string? line;
        while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync()))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line[15..].Trim());
        }
        var body = new char[length];
        int read = 0;
        while (read < length) read += await reader.ReadAsync(body.AsMemory(read));
        string text = new(body);

        (int status, string content) = requestLine.StartsWith("GET", StringComparison.Ordinal) ? (200, Description) : Soap(text);
        byte[] payload = Encoding.UTF8.GetBytes(content);
        string head = $"HTTP/1.1 {status} {(status == 200 ? "OK" : "Internal Server Error")}\r\nContent-Type: text/xml; charset=\"utf-8\"\r\n" +
                      $"Content-Length: {payload.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(payload);
    }

    private (int Status, string Body) Soap(string request)
    {
        string Arg(string name)
        {
            int start = request.IndexOf($"<{name}>", StringComparison.Ordinal);
            if (start < 0) return "";
            start += name.Length + 2;
            return request[start..request.IndexOf($"</{name}>", start, StringComparison.Ordinal)];
        }
        const string Service = "urn:schemas-upnp-org:service:WANIPConnection:1";
        if (request.Contains("<u:GetExternalIPAddress", StringComparison.Ordinal))
        {
            Actions.Enqueue("GetExternalIPAddress");
            return (200, Envelope($"<u:GetExternalIPAddressResponse xmlns:u=\"{Service}\"><NewExternalIPAddress>203.0.113.9</NewExternalIPAddress></u:GetExternalIPAddressResponse>"));
        }
        if (request.Contains("<u:AddPortMapping", StringComparison.Ordinal))
        {
            string lease = Arg("NewLeaseDuration");
            Actions.Enqueue($"AddPortMapping {Arg("NewProtocol")} {Arg("NewExternalPort")} lease {lease} client {Arg("NewInternalClient")}");
            return lease == "0"
                ? (200, Envelope($"<u:AddPortMappingResponse xmlns:u=\"{Service}\"/>"))
                : (500, Fault(725, "OnlyPermanentLeasesSupported"));
        }
        if (request.Contains("<u:DeletePortMapping", StringComparison.Ordinal))
        {
            Actions.Enqueue($"DeletePortMapping {Arg("NewProtocol")} {Arg("NewExternalPort")}");
            return (200, Envelope($"<u:DeletePortMappingResponse xmlns:u=\"{Service}\"/>"));
        }
        return (500, Fault(401, "Invalid Action"));
    }

    private static string Envelope(string body) =>
        "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\">" +
        $"<s:Body>{body}</s:Body></s:Envelope>";

    private static string Fault(int code, string description) => Envelope(
        "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>" +
        $"<UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>{code}</errorCode><errorDescription>{description}</errorDescription></UPnPError>" +
        "</detail></s:Fault>");

    private const string Description = """
        <?xml version="1.0"?>
        <root xmlns="urn:schemas-upnp-org:device-1-0"><device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
        <deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType><deviceList><device>
        <deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType><serviceList><service>
        <serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
        <controlURL>/ctl/IPConn</controlURL></service></serviceList></device></deviceList></device></deviceList></device></root>
        """;

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _ssdp.Dispose();
        _http.Stop();
        try { await Task.WhenAll(_ssdpLoop, _httpLoop); } catch (Exception) { /* stopping */ }
        _stop.Dispose();
    }
}
