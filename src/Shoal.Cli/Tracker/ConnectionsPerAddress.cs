using System.Net;
using Microsoft.AspNetCore.Connections;

namespace Shoal.Cli.Tracker;

/// <summary>
/// Kestrel connection middleware: at most <c>max</c> connections open at once from one address (an IPv6 /64); a
/// further one is closed before HTTP sees it. With the short header timeout, one host opening slow connections can
/// hold this many, not the server's whole connection limit.
/// </summary>
internal sealed class ConnectionsPerAddress(int max)
{
    private readonly Dictionary<AddressKey, int> _open = [];
    private readonly Lock _gate = new();

    /// <summary>Connections open now, over every address.</summary>
    public int Open
    {
        get
        {
            lock (_gate) return _open.Values.Sum();
        }
    }

    /// <summary>Wraps the rest of the connection pipeline.</summary>
    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        if (connection.RemoteEndPoint is not IPEndPoint remote)
        {
            await next(connection).ConfigureAwait(false);
            return;
        }
        AddressKey key = AddressKey.From(remote.Address);
        lock (_gate)
        {
            int open = _open.GetValueOrDefault(key);
            if (open >= max) return; // returning closes the connection
            _open[key] = open + 1;
        }
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                int open = _open[key] - 1;
                if (open == 0) _open.Remove(key);
                else _open[key] = open;
            }
        }
    };
}
