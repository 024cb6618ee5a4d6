namespace Shoal.PortMapping;

/// <summary>A gateway refused or garbled a port-mapping exchange; the message says which and why.</summary>
public class PortMappingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PortMappingException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
