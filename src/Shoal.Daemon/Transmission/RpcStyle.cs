namespace Shoal.Daemon.Transmission;

/// <summary>Which of Transmission's two request forms a call came in, which decides the names of the answer.</summary>
internal enum RpcStyle
{
    /// <summary>
    /// The classic form, <c>{"method", "arguments", "tag"}</c>, answered <c>{"arguments", "result", "tag"}</c> with
    /// Transmission 4.0's mixed kebab-case and camelCase names.
    /// </summary>
    Legacy,

    /// <summary>JSON-RPC 2.0 (Transmission 4.1 and later), answered with snake_case names.</summary>
    JsonRpc,
}
