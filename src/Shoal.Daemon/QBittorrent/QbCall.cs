using Microsoft.AspNetCore.Http;

namespace Shoal.Daemon.QBittorrent;

/// <summary>One authenticated Web API call: its parameters, who makes it (for sync/maindata's per-client state), its HTTP context.</summary>
internal sealed record QbCall(QbParams Params, string ClientKey, HttpContext Context)
{
    public CancellationToken Aborted => Context.RequestAborted;
}
