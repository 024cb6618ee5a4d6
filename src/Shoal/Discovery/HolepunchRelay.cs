using System.Net;

namespace Shoal.Discovery;

/// <summary>How a relay knows a peer it was asked to introduce.</summary>
public enum HolepunchTarget
{
    /// <summary>Not connected to us.</summary>
    NotConnected,

    /// <summary>Connected, without ut_holepunch in its extension handshake.</summary>
    ConnectedWithoutSupport,

    /// <summary>Connected, and it supports ut_holepunch.</summary>
    ConnectedWithSupport,
}

/// <summary>What a relay does with a rendezvous: nothing, answer with an error, or send the two connect messages.</summary>
/// <param name="Ignore">Drop the message silently.</param>
/// <param name="Error">When not <see cref="HolepunchError.None"/> (and not ignored): answer the initiator with this error.</param>
public readonly record struct HolepunchRelayDecision(bool Ignore, HolepunchError Error)
{
    /// <summary>Send connect(target) to the initiator and connect(initiator) to the target.</summary>
    public bool Forward => !Ignore && Error == HolepunchError.None;
}

/// <summary>
/// The relay's rules of BEP 55, pure: a rendezvous from a peer that did not announce ut_holepunch is ignored, as is
/// any message but a rendezvous; a target that is us, the initiator itself or no endpoint at all gets an error, as
/// does one we are not connected to or that does not support the extension; anything else is forwarded.
/// </summary>
public static class HolepunchRelay
{
    /// <summary>Decides what to do with <paramref name="message"/> received from a peer.</summary>
    /// <param name="message">The message.</param>
    /// <param name="initiator">The endpoint of the peer that sent it, as we see it.</param>
    /// <param name="initiatorSupportsHolepunch">Whether that peer announced ut_holepunch in its extension handshake.</param>
    /// <param name="isSelf">Whether an endpoint is one of ours (our listen endpoints, our external address).</param>
    /// <param name="target">How we know the target endpoint.</param>
    public static HolepunchRelayDecision Decide(HolepunchMessage message, IPEndPoint initiator, bool initiatorSupportsHolepunch,
        Func<IPEndPoint, bool> isSelf, Func<IPEndPoint, HolepunchTarget> target)
    {
        ArgumentNullException.ThrowIfNull(initiator);
        ArgumentNullException.ThrowIfNull(isSelf);
        ArgumentNullException.ThrowIfNull(target);
        // BEP 55: messages from a peer that did not announce the extension MUST be ignored silently.
        if (!initiatorSupportsHolepunch || message.Type != HolepunchMessageType.Rendezvous) return new(true, HolepunchError.None);
        IPEndPoint endPoint = message.EndPoint;
        if (isSelf(endPoint)) return new(false, HolepunchError.NoSelf);
        if (endPoint.Port == 0 || endPoint.Address.Equals(IPAddress.Any) || endPoint.Address.Equals(IPAddress.IPv6Any) || endPoint.Equals(initiator))
            return new(false, HolepunchError.NoSuchPeer);
        return target(endPoint) switch
        {
            HolepunchTarget.NotConnected => new(false, HolepunchError.NotConnected),
            HolepunchTarget.ConnectedWithoutSupport => new(false, HolepunchError.NoSupport),
            _ => new(false, HolepunchError.None),
        };
    }
}
