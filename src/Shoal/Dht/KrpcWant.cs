namespace Shoal.Dht;

/// <summary>
/// The BEP 32 "want" argument of find_node and get_peers: which node lists ("nodes", "nodes6") the querier asks for.
/// <see cref="None"/> means the argument is absent, and the answer carries the list of the query's own family.
/// </summary>
[Flags]
public enum KrpcWant
{
    /// <summary>No "want": the answer carries the list of the family the query arrived over.</summary>
    None = 0,

    /// <summary>"n4": the querier wants "nodes" (IPv4).</summary>
    N4 = 1,

    /// <summary>"n6": the querier wants "nodes6" (IPv6).</summary>
    N6 = 2,
}
