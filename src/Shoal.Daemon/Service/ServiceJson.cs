using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shoal.Daemon.Service;

/// <summary>
/// Source-generated JSON for the service's values as the native API shows them: snake_case names, enums as
/// snake_case words, nulls left out.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(DaemonSettings))]
[JsonSerializable(typeof(TorrentView))]
[JsonSerializable(typeof(IReadOnlyList<TorrentView>))]
[JsonSerializable(typeof(TorrentDetails))]
[JsonSerializable(typeof(IReadOnlyList<FileView>))]
[JsonSerializable(typeof(IReadOnlyList<PeerView>))]
[JsonSerializable(typeof(IReadOnlyList<TrackerView>))]
[JsonSerializable(typeof(SessionStatsView))]
[JsonSerializable(typeof(RateHistoryView))]
[JsonSerializable(typeof(PieceMapView))]
[JsonSerializable(typeof(DaemonEvent))]
[JsonSerializable(typeof(CategoryView))]
[JsonSerializable(typeof(IReadOnlyList<CategoryView>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class ServiceJson : JsonSerializerContext
{
    /// <summary>Enum values as the API writes them ("queued_download").</summary>
    public static string Name<TEnum>(TEnum value) where TEnum : struct, Enum
        => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());
}
