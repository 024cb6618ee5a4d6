namespace Shoal.Daemon.Transmission;

/// <summary>
/// A Transmission RPC call that failed: a JSON-RPC error code (<see cref="RpcErrorCode"/>) and the words that say
/// why. The classic form answers the words as its <c>result</c> string; JSON-RPC answers the code, the code's
/// standard message and the words as <c>data.error_string</c>.
/// </summary>
internal sealed class RpcException : Exception
{
    public RpcException(int code, string detail) : base(detail) => Code = code;

    public RpcException() : this(RpcErrorCode.InternalError, "internal error")
    {
    }

    public RpcException(string message) : this(RpcErrorCode.InvalidParams, message)
    {
    }

    public RpcException(string message, Exception inner) : base(message, inner) => Code = RpcErrorCode.InternalError;

    /// <summary>The JSON-RPC error code.</summary>
    public int Code { get; }

    public static RpcException Params(string detail) => new(RpcErrorCode.InvalidParams, detail);
}
