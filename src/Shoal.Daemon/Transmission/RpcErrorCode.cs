namespace Shoal.Daemon.Transmission;

/// <summary>The error codes of Transmission's JSON-RPC 2.0 form: JSON-RPC's own, then Transmission's (rpc-spec.md 2.1).</summary>
internal static class RpcErrorCode
{
    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int MethodNotFound = -32601;
    public const int InvalidParams = -32602;
    public const int InternalError = -32603;
    public const int SetAnnounceList = 1;
    public const int InvalidTrackerList = 2;
    public const int PathNotAbsolute = 3;
    public const int UnrecognizedInfo = 4;
    public const int SystemError = 5;
    public const int FileIndexOutOfRange = 6;
    public const int PieceIndexOutOfRange = 7;
    public const int HttpError = 8;
    public const int CorruptTorrent = 9;
    public const int InvalidBlocklistData = 10;

    /// <summary>The standard message of a code, as Transmission words it.</summary>
    public static string Message(int code) => code switch
    {
        ParseError => "Parse error",
        InvalidRequest => "Invalid Request",
        MethodNotFound => "Method not found",
        InvalidParams => "Invalid params",
        InternalError => "Internal error",
        SetAnnounceList => "error setting announce list",
        InvalidTrackerList => "Invalid tracker list",
        PathNotAbsolute => "path is not absolute",
        UnrecognizedInfo => "unrecognized info",
        SystemError => "system error",
        FileIndexOutOfRange => "file index out of range",
        PieceIndexOutOfRange => "piece index out of range",
        HttpError => "HTTP error from backend service",
        CorruptTorrent => "invalid or corrupt torrent file",
        InvalidBlocklistData => "couldn't parse any valid blocklist rules",
        _ => "error",
    };
}
