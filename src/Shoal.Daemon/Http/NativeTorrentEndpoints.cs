using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.Http;

/// <summary>The native API's torrent endpoints (docs/api.md). Every handler is a thin call into <see cref="TorrentService"/>.</summary>
internal static class NativeTorrentEndpoints
{
    /// <summary>Largest body of an add (several .torrent files in one form).</summary>
    public const long MaxAddBodyBytes = 64L * 1024 * 1024;

    public static void Map(IEndpointRouteBuilder app)
    {
        RouteGroupBuilder api = app.MapGroup("/api/v1/torrents");

        api.MapGet("", (TorrentService service, string? state, string? category, string? tag, string? search, string? sort, bool? reverse, int? offset, int? limit) =>
        {
            var filter = new TorrentFilter
            {
                State = state, Category = category, Tag = tag, Search = search, Sort = sort,
                Reverse = reverse ?? false, Offset = offset ?? 0, Limit = limit ?? 0,
            };
            return Results.Json(filter.Apply(service.List()), ServiceJson.Default.IReadOnlyListTorrentView);
        });

        api.MapPost("", AddAsync).WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxAddBodyBytes));

        api.MapGet("/{id}", (TorrentService service, string id) => Results.Json(service.GetDetails(id), ServiceJson.Default.TorrentDetails));
        api.MapGet("/{id}/files", (TorrentService service, string id) => Results.Json(service.GetFiles(id), ServiceJson.Default.IReadOnlyListFileView));
        api.MapGet("/{id}/peers", (TorrentService service, string id) => Results.Json(service.GetPeers(id), ServiceJson.Default.IReadOnlyListPeerView));
        api.MapGet("/{id}/pieces", async (HttpContext context, TorrentService service, string id)
            => Results.Json(await service.GetPieceMapAsync(id, context.RequestAborted).ConfigureAwait(false), ServiceJson.Default.PieceMapView));
        api.MapGet("/{id}/trackers", (TorrentService service, string id) => Results.Json(service.GetTrackers(id), ServiceJson.Default.IReadOnlyListTrackerView));

        api.MapPost("/{id}/files/priority", async (TorrentService service, string id, PriorityRequest body) =>
        {
            if (body.Priority is not { } priority) throw ServiceException.Bad("priority is required: skip, low, normal or high");
            await service.SetFilePrioritiesAsync(id, body.Files ?? [], priority).ConfigureAwait(false);
            return Results.Json(service.GetFiles(id), ServiceJson.Default.IReadOnlyListFileView);
        });
        api.MapPost("/{id}/options", async (TorrentService service, string id, TorrentOptionsPatch body) =>
        {
            await service.SetOptionsAsync(id, body).ConfigureAwait(false);
            return Results.Json(service.GetDetails(id), ServiceJson.Default.TorrentDetails);
        });

        api.MapPost("/pause", (TorrentService s, IdsRequest body) => Act(s, body.Ids, s.PauseAsync));
        api.MapPost("/resume", (TorrentService s, IdsRequest body) => Act(s, body.Ids, s.ResumeAsync));
        api.MapPost("/force-start", (TorrentService s, IdsRequest body) => Act(s, body.Ids, s.ForceStartAsync));
        api.MapPost("/recheck", (TorrentService s, IdsRequest body) => Act(s, body.Ids, s.RecheckAsync));
        api.MapPost("/remove", async (TorrentService s, RemoveRequest body) =>
        {
            IReadOnlyList<string> ids = Required(body.Ids);
            int count = s.Get(ids).Count;
            IReadOnlyList<string> problems = await s.RemoveAsync(ids, body.DeleteData).ConfigureAwait(false);
            return Results.Json(new RemoveResult(count, problems), ApiJson.Default.RemoveResult);
        });
        api.MapPost("/queue", async (TorrentService s, QueueRequest body) =>
        {
            if (body.Move is not { } move) throw ServiceException.Bad("move is required: top, up, down or bottom");
            await s.MoveInQueueAsync(Required(body.Ids), move).ConfigureAwait(false);
            return Results.Json(s.Get(Required(body.Ids)), ServiceJson.Default.IReadOnlyListTorrentView);
        });
        api.MapPost("/category", async (TorrentService s, SetCategoryRequest body) =>
        {
            await s.SetCategoryAsync(Required(body.Ids), body.Category).ConfigureAwait(false);
            return Results.Json(s.Get(Required(body.Ids)), ServiceJson.Default.IReadOnlyListTorrentView);
        });
        api.MapPost("/tags/add", async (TorrentService s, TagsRequest body) =>
        {
            await s.AddTagsAsync(Required(body.Ids), body.Tags ?? []).ConfigureAwait(false);
            return Results.Json(s.Get(Required(body.Ids)), ServiceJson.Default.IReadOnlyListTorrentView);
        });
        api.MapPost("/tags/remove", async (TorrentService s, TagsRequest body) =>
        {
            await s.RemoveTagsAsync(Required(body.Ids), body.Tags ?? []).ConfigureAwait(false);
            return Results.Json(s.Get(Required(body.Ids)), ServiceJson.Default.IReadOnlyListTorrentView);
        });
    }

    private static async Task<IResult> Act(TorrentService service, IReadOnlyList<string>? ids, Func<IReadOnlyList<string>, Task> action)
    {
        IReadOnlyList<string> named = Required(ids);
        await action(named).ConfigureAwait(false);
        return Results.Json(service.Get(named), ServiceJson.Default.IReadOnlyListTorrentView);
    }

    private static IReadOnlyList<string> Required(IReadOnlyList<string>? ids)
        => ids is { Count: > 0 } ? ids : throw ServiceException.Bad("ids is required: a list of torrent ids, info-hashes or prefixes, or [\"all\"]");

    /// <summary>
    /// POST /api/v1/torrents: JSON (<see cref="AddRequest"/>, one torrent) or a multipart form (any number of .torrent
    /// files, and 'urls' with one magnet link or URL per line, sharing the form's options).
    /// </summary>
    private static async Task<IResult> AddAsync(HttpContext context, TorrentService service)
    {
        CancellationToken aborted = context.RequestAborted;
        var requests = new List<(string Source, AddTorrentRequest Request)>();
        if (context.Request.HasFormContentType)
        {
            IFormCollection form = await context.Request.ReadFormAsync(aborted).ConfigureAwait(false);
            AddTorrentRequest options = FromForm(form);
            foreach (IFormFile file in form.Files)
            {
                if (file.Length > Metainfo.Torrent.MaxTorrentBytes) throw ServiceException.Bad($"{file.FileName} is too large for a .torrent");
                using var buffer = new MemoryStream((int)file.Length);
                await file.CopyToAsync(buffer, aborted).ConfigureAwait(false);
                requests.Add((file.FileName, options with { Metainfo = buffer.ToArray() }));
            }
            foreach (string line in form["urls"].ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                requests.Add((line, options with { Uri = line }));
            }
        }
        else
        {
            AddRequest body = await context.Request.ReadFromJsonAsync(ApiJson.Default.AddRequest, aborted).ConfigureAwait(false)
                ?? throw ServiceException.Bad("the body is empty");
            byte[]? metainfo = null;
            if (body.Metainfo is { } base64)
            {
                try
                {
                    metainfo = Convert.FromBase64String(base64);
                }
                catch (FormatException)
                {
                    throw ServiceException.Bad("metainfo is not base64");
                }
            }
            requests.Add((body.Uri ?? "metainfo", new AddTorrentRequest
            {
                Uri = body.Uri, Metainfo = metainfo, SavePath = body.SavePath, Paused = body.Paused, ForceStart = body.ForceStart,
                Sequential = body.Sequential, Category = body.Category, Tags = body.Tags ?? [], FilePriorities = body.FilePriorities,
                Trackers = body.Trackers ?? [], DownloadLimit = body.DownloadLimit, UploadLimit = body.UploadLimit,
                RatioLimit = body.RatioLimit, SeedingTimeLimitMinutes = body.SeedingTimeLimitMinutes, IdleLimitMinutes = body.IdleLimitMinutes,
                FirstLastPiecePriority = body.FirstLastPiecePriority,
            }));
        }
        if (requests.Count == 0) throw ServiceException.Bad("nothing to add: send a .torrent file, a magnet link or a URL");
        var added = new List<TorrentView>();
        var failed = new List<AddFailure>();
        ServiceException? first = null;
        // All of a request's torrents in one transaction: one durable commit, one queue plan.
        IReadOnlyList<AddOutcome> outcomes = await service.AddManyAsync([.. requests.Select(r => r.Request)], aborted).ConfigureAwait(false);
        for (int i = 0; i < outcomes.Count; i++)
        {
            if (outcomes[i].Added is { } view)
            {
                added.Add(view);
            }
            else
            {
                first ??= outcomes[i].Error;
                failed.Add(new AddFailure(requests[i].Source, outcomes[i].Error!.Message, ApiErrors.StatusOf(outcomes[i].Error!.Kind)));
            }
        }
        if (added.Count == 0 && first is not null) return ApiErrors.Result(ApiErrors.StatusOf(first.Kind), first.Message);
        return Results.Json(new AddResult(added, failed), ApiJson.Default.AddResult);
    }

    private static AddTorrentRequest FromForm(IFormCollection form) => new()
    {
        SavePath = Text(form, "save_path"),
        Paused = Flag(form, "paused"),
        ForceStart = Flag(form, "force_start"),
        Sequential = Flag(form, "sequential"),
        FirstLastPiecePriority = Flag(form, "first_last_piece_priority"),
        Category = Text(form, "category"),
        Tags = (Text(form, "tags") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        DownloadLimit = Number(form, "download_limit"),
        UploadLimit = Number(form, "upload_limit"),
    };

    private static string? Text(IFormCollection form, string key) => form.TryGetValue(key, out var v) && v.ToString() is { Length: > 0 } s ? s : null;

    private static bool Flag(IFormCollection form, string key) => Text(form, key) is { } s && (s == "1" || s.Equals("true", StringComparison.OrdinalIgnoreCase));

    private static long Number(IFormCollection form, string key)
    {
        if (Text(form, key) is not { } s) return 0;
        return long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : throw ServiceException.Bad($"{key} must be a whole number");
    }
}
