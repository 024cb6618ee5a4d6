using System.Xml;

namespace Shoal.PortMapping;

/// <summary>
/// The part of a UPnP device description a port mapper needs: the WANIPConnection (preferred) or WANPPPConnection
/// service's type and absolute control URL. Parsed with DTDs prohibited and no external resolution, size-bounded.
/// </summary>
/// <param name="ServiceType">For example <c>urn:schemas-upnp-org:service:WANIPConnection:2</c>.</param>
/// <param name="ControlUrl">Where the SOAP actions are posted.</param>
public sealed record IgdDescription(string ServiceType, Uri ControlUrl)
{
    /// <summary>Largest description accepted (real ones are a few KiB).</summary>
    public const int MaxLength = 128 * 1024;

    private const string WanIp = "urn:schemas-upnp-org:service:WANIPConnection:";
    private const string WanPpp = "urn:schemas-upnp-org:service:WANPPPConnection:";

    /// <summary>
    /// Finds the connection service in <paramref name="xml"/> fetched from <paramref name="location"/>; relative
    /// control URLs resolve against URLBase when the description has one, else against the location.
    /// </summary>
    /// <exception cref="PortMappingException">Not a description, or no usable connection service in it.</exception>
    public static IgdDescription Parse(string xml, Uri location)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = MaxLength,
            IgnoreComments = true,
        };
        string? urlBase = null;
        (string Type, string Control)? ip = null, ppp = null;
        try
        {
            using var reader = XmlReader.Create(new StringReader(xml), settings);
            reader.Read();
            while (!reader.EOF)
            {
                // ReadElementContentAsString leaves the reader on the next node already: no Read() after it.
                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "URLBase") urlBase = reader.ReadElementContentAsString().Trim();
                else if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "service")
                {
                    using (XmlReader service = reader.ReadSubtree()) ReadService(service, ref ip, ref ppp);
                    reader.Read();
                }
                else reader.Read();
            }
        }
        catch (XmlException ex)
        {
            throw new PortMappingException($"the device description at {location} is not valid XML: {ex.Message}", ex);
        }

        (string type, string control) = ip ?? ppp
            ?? throw new PortMappingException($"the device at {location} offers no WANIPConnection or WANPPPConnection service");
        Uri baseUri = urlBase is { Length: > 0 } && Uri.TryCreate(urlBase, UriKind.Absolute, out Uri? b) ? b : location;
        if (!Uri.TryCreate(baseUri, control, out Uri? controlUrl) || controlUrl.Scheme != Uri.UriSchemeHttp)
            throw new PortMappingException($"the device at {location} has an unusable control URL '{control}'");
        return new IgdDescription(type, controlUrl);
    }

    private static void ReadService(XmlReader service, ref (string, string)? ip, ref (string, string)? ppp)
    {
        string? type = null, control = null;
        service.Read();
        while (!service.EOF)
        {
            if (service.NodeType == XmlNodeType.Element && service.LocalName == "serviceType") type = service.ReadElementContentAsString().Trim();
            else if (service.NodeType == XmlNodeType.Element && service.LocalName == "controlURL") control = service.ReadElementContentAsString().Trim();
            else service.Read();
        }
        if (type is null || string.IsNullOrEmpty(control)) return;
        if (ip is null && type.StartsWith(WanIp, StringComparison.Ordinal)) ip = (type, control);
        else if (ppp is null && type.StartsWith(WanPpp, StringComparison.Ordinal)) ppp = (type, control);
    }
}
