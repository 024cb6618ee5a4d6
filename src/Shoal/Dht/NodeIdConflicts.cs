using System.Net;

namespace Shoal.Dht;

/// <summary>
/// Messages that carry our own node id (issue 21). Either they are ours, come back because we queried one of our own
/// addresses (remembered in <see cref="SelfEndPoints"/> so lookups skip it), or another node uses our id — two
/// processes that loaded one saved state, a copied state file, or a hostile node. The second kind is a conflict:
/// logged once per address (a bounded number of addresses), never taken for ourselves. Single owner.
/// </summary>
internal sealed class NodeIdConflicts(Action<string>? log)
{
    /// <summary>Most addresses remembered of each kind; later ones are counted but not logged or remembered.</summary>
    public const int MaxRemembered = 16;

    private readonly List<IPEndPoint> _self = [];
    private readonly HashSet<IPEndPoint> _reported = [];

    /// <summary>Addresses that turned out to be this node itself.</summary>
    public IReadOnlyList<IPEndPoint> SelfEndPoints => _self;

    /// <summary>Messages from another node carrying our id, since start.</summary>
    public long Conflicts { get; private set; }

    /// <summary>Remembers that <paramref name="endPoint"/> reaches this very node.</summary>
    public void AddSelf(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        if (_self.Count < MaxRemembered && !_self.Contains(endPoint)) _self.Add(endPoint);
    }

    /// <summary>A <paramref name="what"/> ("query", "reply") from <paramref name="source"/> carried our id.</summary>
    public void Report(IPEndPoint source, string what)
    {
        ArgumentNullException.ThrowIfNull(source);
        Conflicts++;
        if (_reported.Count >= MaxRemembered || !_reported.Add(source)) return;
        string more = _reported.Count == MaxRemembered ? " (further conflicts are not logged)" : "";
        log?.Invoke($"node id conflict: a {what} from {source} carries this node's own id; another node uses the same id " +
            $"(two processes sharing one DHT state folder?){more}");
    }
}
