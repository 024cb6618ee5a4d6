using System.Net;

namespace Shoal.Dht;

/// <summary>How BEP 5 classifies a node in the routing table.</summary>
public enum NodeState
{
    /// <summary>Responded within the last 15 minutes, or responded once and queried us within 15 minutes.</summary>
    Good,

    /// <summary>Not heard from for 15 minutes (or never responded): ping before trusting or evicting.</summary>
    Questionable,

    /// <summary>Failed to respond to several queries in a row: first to be replaced.</summary>
    Bad,
}

/// <summary>One entry of a <see cref="RoutingTable"/>. Mutated only by its table.</summary>
public sealed class RoutingNode
{
    internal RoutingNode(NodeContact contact, bool secure, DateTimeOffset now)
    {
        Contact = contact;
        IsSecure = secure;
        AddedAt = now;
        LastSeen = now;
    }

    /// <summary>Id and endpoint.</summary>
    public NodeContact Contact { get; }

    /// <summary>The node's id.</summary>
    public NodeId Id => Contact.Id;

    /// <summary>The node's endpoint.</summary>
    public IPEndPoint EndPoint => Contact.EndPoint;

    /// <summary>Its id is BEP 42 compliant for its address (or its address is exempt).</summary>
    public bool IsSecure { get; }

    /// <summary>When it entered the table.</summary>
    public DateTimeOffset AddedAt { get; }

    /// <summary>Last time any message (query or response) came from it.</summary>
    public DateTimeOffset LastSeen { get; internal set; }

    /// <summary>Last time it answered one of our queries; null if it never did.</summary>
    public DateTimeOffset? LastResponse { get; internal set; }

    /// <summary>Queries in a row it failed to answer.</summary>
    public int FailedQueries { get; internal set; }

    /// <summary>Last time we pinged it to check it (ping-before-evict / questionable check).</summary>
    public DateTimeOffset? LastPinged { get; internal set; }

    /// <summary>The BEP 5 state at <paramref name="now"/>.</summary>
    public NodeState StateAt(DateTimeOffset now, TimeSpan goodFor, int maxFailures)
    {
        if (FailedQueries >= maxFailures) return NodeState.Bad;
        if (LastResponse is { } r && (now - r < goodFor || now - LastSeen < goodFor)) return NodeState.Good;
        return NodeState.Questionable;
    }
}
