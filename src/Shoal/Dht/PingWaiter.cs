using System.Net;

namespace Shoal.Dht;

/// <summary>A ping's caller, waiting for the answer (or its absence).</summary>
internal sealed class PingWaiter : IQueryObserver
{
    private readonly TaskCompletionSource<NodeId?> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<NodeId?> Task => _completion.Task;

    public bool WantsSlowNotice => false;

    public void Cancel(CancellationToken cancellationToken)
        => cancellationToken.Register(static s => ((TaskCompletionSource<NodeId?>)s!).TrySetCanceled(), _completion);

    public void OnResponse(IPEndPoint from, KrpcResponse response) => _completion.TrySetResult(response.SenderId);

    public void OnSlow(IPEndPoint to)
    {
    }

    public void OnFailure(IPEndPoint to) => _completion.TrySetResult(null);
}
