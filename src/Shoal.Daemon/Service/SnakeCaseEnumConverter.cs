using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shoal.Daemon.Service;

/// <summary>Writes and reads an enum as its snake_case name ("queued_download"), as every value of the native API.</summary>
/// <typeparam name="TEnum">The enum.</typeparam>
public sealed class SnakeCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false)
    where TEnum : struct, Enum;
