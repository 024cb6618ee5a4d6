using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security;
using System.Text;
using System.Xml;

namespace Shoal.PortMapping;

/// <summary>
/// SOAP actions on an Internet Gateway Device's WANIPConnection/WANPPPConnection service: AddPortMapping,
/// DeletePortMapping, GetExternalIPAddress, GetSpecificPortMappingEntry. Plain HTTP to the LAN (never through a
/// proxy), bounded responses and timeouts; a UPnP fault becomes an <see cref="UpnpException"/> with its code.
/// </summary>
internal sealed class UpnpSoapClient : IDisposable
{
    private const int MaxResponseLength = 64 * 1024;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private readonly HttpClient _http;

    public UpnpSoapClient(PortMappingOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectTimeout = RequestTimeout,
            ConnectCallback = async (context, cancellationToken) =>
            {
                // Sockets come from the options' factory, so the mapper can live in another network namespace.
                DnsEndPoint target = context.DnsEndPoint;
                IPAddress address = IPAddress.Parse(target.Host.Trim('[', ']'));
                Socket socket = options.CreateSocket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.NoDelay = true;
                    await socket.ConnectAsync(new IPEndPoint(address, target.Port), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        _http = new HttpClient(handler) { Timeout = RequestTimeout, MaxResponseContentBufferSize = MaxResponseLength };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Shoal/0.1 UPnP/1.1");
    }

    /// <summary>Fetches a device description (bounded in size).</summary>
    public async Task<string> GetDescriptionAsync(Uri location, CancellationToken cancellationToken)
    {
        try
        {
            using HttpResponseMessage response = await _http.GetAsync(location, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) throw new PortMappingException($"{location} answered HTTP {(int)response.StatusCode}");
            return await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new PortMappingException($"cannot fetch the device description at {location}: {ex.Message}", ex);
        }
    }

    public Task AddPortMappingAsync(IgdDescription service, PortMappingProtocol protocol, int externalPort, IPAddress internalClient, int internalPort,
        string description, uint leaseSeconds, CancellationToken cancellationToken) =>
        InvokeAsync(service, "AddPortMapping",
        [
            ("NewRemoteHost", ""),
            ("NewExternalPort", Text(externalPort)),
            ("NewProtocol", Name(protocol)),
            ("NewInternalPort", Text(internalPort)),
            ("NewInternalClient", internalClient.ToString()),
            ("NewEnabled", "1"),
            ("NewPortMappingDescription", description),
            ("NewLeaseDuration", leaseSeconds.ToString(CultureInfo.InvariantCulture)),
        ], cancellationToken);

    public Task DeletePortMappingAsync(IgdDescription service, PortMappingProtocol protocol, int externalPort, CancellationToken cancellationToken) =>
        InvokeAsync(service, "DeletePortMapping",
            [("NewRemoteHost", ""), ("NewExternalPort", Text(externalPort)), ("NewProtocol", Name(protocol))], cancellationToken);

    public async Task<IPAddress?> GetExternalIPAddressAsync(IgdDescription service, CancellationToken cancellationToken)
    {
        Dictionary<string, string> values = await InvokeAsync(service, "GetExternalIPAddress", [], cancellationToken).ConfigureAwait(false);
        return values.TryGetValue("NewExternalIPAddress", out string? text) && IPAddress.TryParse(text, out IPAddress? address) ? address : null;
    }

    /// <summary>The gateway's entry for an external port: internal client, internal port and remaining lease; null when there is none.</summary>
    public async Task<(IPAddress Client, int Port, uint LeaseSeconds)?> GetSpecificPortMappingEntryAsync(IgdDescription service,
        PortMappingProtocol protocol, int externalPort, CancellationToken cancellationToken)
    {
        Dictionary<string, string> values;
        try
        {
            values = await InvokeAsync(service, "GetSpecificPortMappingEntry",
                [("NewRemoteHost", ""), ("NewExternalPort", Text(externalPort)), ("NewProtocol", Name(protocol))], cancellationToken).ConfigureAwait(false);
        }
        catch (UpnpException ex) when (ex.Code == UpnpException.NoSuchEntryInArray)
        {
            return null;
        }
        return (IPAddress.Parse(values["NewInternalClient"]), int.Parse(values["NewInternalPort"], CultureInfo.InvariantCulture),
            uint.Parse(values["NewLeaseDuration"], CultureInfo.InvariantCulture));
    }

    /// <summary>Posts one SOAP action; returns the response's output arguments by name.</summary>
    private async Task<Dictionary<string, string>> InvokeAsync(IgdDescription service, string action, (string Name, string Value)[] arguments,
        CancellationToken cancellationToken)
    {
        var body = new StringBuilder(512);
        body.Append("<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" ")
            .Append("s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>")
            .Append("<u:").Append(action).Append(" xmlns:u=\"").Append(SecurityElement.Escape(service.ServiceType)).Append("\">");
        foreach ((string name, string value) in arguments) body.Append('<').Append(name).Append('>').Append(SecurityElement.Escape(value)).Append("</").Append(name).Append('>');
        body.Append("</u:").Append(action).Append("></s:Body></s:Envelope>\r\n");

        using var request = new HttpRequestMessage(HttpMethod.Post, service.ControlUrl)
        {
            Content = new StringContent(body.ToString(), Encoding.UTF8, "text/xml"),
        };
        request.Content.Headers.ContentType!.CharSet = "\"utf-8\"";
        request.Headers.TryAddWithoutValidation("SOAPAction", $"\"{service.ServiceType}#{action}\"");
        string text;
        HttpStatusCode status;
        try
        {
            using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            status = response.StatusCode;
            text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new PortMappingException($"UPnP {action} to {service.ControlUrl} failed: {ex.Message}", ex);
        }

        Dictionary<string, string> values = ReadValues(text, action);
        if (values.TryGetValue("errorCode", out string? code))
        {
            values.TryGetValue("errorDescription", out string? description);
            throw new UpnpException(int.TryParse(code, CultureInfo.InvariantCulture, out int number) ? number : 0, action, description ?? "no description");
        }
        if ((int)status >= 300) throw new PortMappingException($"UPnP {action} answered HTTP {(int)status}");
        return values;
    }

    /// <summary>Every leaf element's text by local name (the output arguments, or a fault's errorCode/errorDescription).</summary>
    private static Dictionary<string, string> ReadValues(string xml, string action)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = MaxResponseLength };
        try
        {
            using var reader = XmlReader.Create(new StringReader(xml), settings);
            string? element = null;
            while (reader.Read())
            {
                switch (reader.NodeType)
                {
                    case XmlNodeType.Element:
                        element = reader.LocalName;
                        if (reader.IsEmptyElement) values.TryAdd(element, "");
                        break;
                    case XmlNodeType.Text when element is not null:
                        values.TryAdd(element, reader.Value.Trim());
                        break;
                    case XmlNodeType.EndElement:
                        if (element is not null) values.TryAdd(element, "");
                        element = null;
                        break;
                }
            }
        }
        catch (XmlException ex)
        {
            throw new PortMappingException($"UPnP {action}: the answer is not valid XML: {ex.Message}", ex);
        }
        return values;
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Name(PortMappingProtocol protocol) => protocol == PortMappingProtocol.Tcp ? "TCP" : "UDP";

    public void Dispose() => _http.Dispose();
}

/// <summary>A UPnP error a gateway answered an action with (a SOAP fault with a UPnPError).</summary>
internal sealed class UpnpException(int code, string action, string description)
    : PortMappingException($"UPnP {action} refused: error {code} ({description})")
{
    public const int NoSuchEntryInArray = 714;
    public const int ConflictInMappingEntry = 718;
    public const int OnlyPermanentLeasesSupported = 725;

    public int Code { get; } = code;
}
