using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Shoal.Daemon.Transmission;

/// <summary>
/// Runs one request object of either form and builds its answer: the classic form's
/// <c>{"arguments", "result", "tag"}</c> or JSON-RPC's <c>{"jsonrpc", "result" | "error", "id"}</c>; null for a
/// JSON-RPC notification (no id), which gets no answer.
/// </summary>
internal sealed class CallRunner(TransmissionRpc rpc, ILogger log, CancellationToken cancellationToken)
{
    public async Task<Action<Utf8JsonWriter>?> RunAsync(JsonElement request, bool inBatch)
    {
        if (request.ValueKind != JsonValueKind.Object)
        {
            return w => TransmissionEndpoint.JsonRpcError(w, default, RpcErrorCode.InvalidRequest, inBatch ? "request must be an Object" : "request must be an Array or Object");
        }
        bool jsonRpc = request.TryGetProperty("jsonrpc", out JsonElement version);
        if (jsonRpc && (version.ValueKind != JsonValueKind.String || version.GetString() != "2.0"))
        {
            return w => TransmissionEndpoint.JsonRpcError(w, default, RpcErrorCode.InvalidRequest, "JSON-RPC version is not 2.0");
        }
        if (!jsonRpc && inBatch)
        {
            return w => TransmissionEndpoint.JsonRpcError(w, default, RpcErrorCode.InvalidRequest, "JSON-RPC version is not 2.0");
        }
        return jsonRpc ? await JsonRpcAsync(request).ConfigureAwait(false) : await LegacyAsync(request).ConfigureAwait(false);
    }

    private async Task<Action<Utf8JsonWriter>> LegacyAsync(JsonElement request)
    {
        JsonElement tag = request.TryGetProperty("tag", out JsonElement t) ? t.Clone() : default;
        if (!request.TryGetProperty("method", out JsonElement method) || method.ValueKind != JsonValueKind.String || method.GetString() is not { Length: > 0 } name)
        {
            return w => LegacyAnswer(w, null, "no method name", tag);
        }
        (byte[]? body, RpcException? error) = await CallAsync(name, request.TryGetProperty("arguments", out JsonElement a) ? a : default, RpcStyle.Legacy).ConfigureAwait(false);
        return w => LegacyAnswer(w, body, error?.Message ?? "success", tag);
    }

    private static void LegacyAnswer(Utf8JsonWriter w, byte[]? body, string result, JsonElement tag)
    {
        w.WriteStartObject();
        w.WritePropertyName("arguments");
        w.WriteRawValue(body ?? EmptyObject, skipInputValidation: true);
        w.WriteString("result", result);
        if (tag.ValueKind != JsonValueKind.Undefined)
        {
            w.WritePropertyName("tag");
            tag.WriteTo(w);
        }
        w.WriteEndObject();
    }

    private async Task<Action<Utf8JsonWriter>?> JsonRpcAsync(JsonElement request)
    {
        bool hasId = request.TryGetProperty("id", out JsonElement id);
        if (hasId && id.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Null))
        {
            return w => TransmissionEndpoint.JsonRpcError(w, default, RpcErrorCode.InvalidRequest, "id type must be String, Number, or Null");
        }
        JsonElement answerId = hasId ? id.Clone() : default;
        if (!request.TryGetProperty("method", out JsonElement method) || method.ValueKind != JsonValueKind.String || method.GetString() is not { Length: > 0 } name)
        {
            return w => TransmissionEndpoint.JsonRpcError(w, answerId, RpcErrorCode.InvalidRequest, "method must be a String");
        }
        JsonElement parameters = request.TryGetProperty("params", out JsonElement p) ? p : default;
        if (parameters.ValueKind == JsonValueKind.Array)
        {
            return hasId ? w => TransmissionEndpoint.JsonRpcError(w, answerId, RpcErrorCode.InvalidParams, "parameters by position are not supported: send an Object") : null;
        }
        (byte[]? body, RpcException? error) = await CallAsync(name, parameters, RpcStyle.JsonRpc).ConfigureAwait(false);
        if (!hasId) return null;
        if (error is not null) return w => TransmissionEndpoint.JsonRpcError(w, answerId, error.Code, error.Message);
        return w =>
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc", "2.0");
            w.WritePropertyName("result");
            w.WriteRawValue(body ?? EmptyObject, skipInputValidation: true);
            w.WritePropertyName("id");
            answerId.WriteTo(w);
            w.WriteEndObject();
        };
    }

    private static readonly byte[] EmptyObject = "{}"u8.ToArray();

    /// <summary>
    /// Runs one call and writes its answer's object into a buffer, so an error while producing it (a bug, the
    /// daemon stopping) becomes an error answer rather than a cut-off response.
    /// </summary>
    private async Task<(byte[]? Body, RpcException? Error)> CallAsync(string method, JsonElement arguments, RpcStyle style)
    {
        try
        {
            var args = new RpcArgs(arguments);
            ArgumentsWriter? body = await rpc.CallAsync(method, args, style, cancellationToken).ConfigureAwait(false);
            if (body is null) return (null, null);
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                body(writer);
                writer.WriteEndObject();
            }
            return (buffer.WrittenSpan.ToArray(), null);
        }
        catch (RpcException ex)
        {
            return (null, ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogError(ex, "Transmission RPC {Method} failed", method);
            return (null, new RpcException(RpcErrorCode.InternalError, "internal error: " + ex.Message));
        }
    }
}
