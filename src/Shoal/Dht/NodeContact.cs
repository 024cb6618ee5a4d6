using System.Net;

namespace Shoal.Dht;

/// <summary>A DHT node as the protocol passes it around: its id and its UDP endpoint.</summary>
/// <param name="Id">The node's 160-bit id.</param>
/// <param name="EndPoint">Where its DHT listens.</param>
public readonly record struct NodeContact(NodeId Id, IPEndPoint EndPoint);
