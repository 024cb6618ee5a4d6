using System.Net;

namespace Shoal.PortMapping;

/// <summary>Where a mapping method reports what it achieved (implemented by <see cref="PortMapper"/>).</summary>
internal interface IMappingReporter
{
    /// <summary>A mapping was created, renewed, removed or failed.</summary>
    void Report(PortMappingStatus status);

    /// <summary>The gateway told us our external address.</summary>
    void ReportExternalAddress(IPAddress address, string source);

    /// <summary>A line for the log.</summary>
    void Log(string message);
}
