using System.Text.Json.Serialization;

namespace Shoal.Daemon.State;

/// <summary>Source-generated JSON for what the store keeps as JSON text.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(TorrentSettings))]
internal sealed partial class StoreJson : JsonSerializerContext;
