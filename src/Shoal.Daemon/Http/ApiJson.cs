using System.Text.Json.Serialization;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.Http;

/// <summary>Source-generated JSON of the native API's requests and answers (snake_case, enums as words).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(SessionInfo))]
[JsonSerializable(typeof(IdsRequest))]
[JsonSerializable(typeof(RemoveRequest))]
[JsonSerializable(typeof(RemoveResult))]
[JsonSerializable(typeof(AddRequest))]
[JsonSerializable(typeof(AddResult))]
[JsonSerializable(typeof(PriorityRequest))]
[JsonSerializable(typeof(QueueRequest))]
[JsonSerializable(typeof(SetCategoryRequest))]
[JsonSerializable(typeof(TagsRequest))]
[JsonSerializable(typeof(CategoryRequest))]
[JsonSerializable(typeof(TagListRequest))]
[JsonSerializable(typeof(PasswordRequest))]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(TorrentOptionsPatch))]
public sealed partial class ApiJson : JsonSerializerContext;
