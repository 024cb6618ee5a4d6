using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.Http;

/// <summary>The native API's error answers: a status code and <c>{"error": "..."}</c>.</summary>
internal static class ApiErrors
{
    public static int StatusOf(ServiceErrorKind kind) => kind switch
    {
        ServiceErrorKind.BadRequest => StatusCodes.Status400BadRequest,
        ServiceErrorKind.NotFound => StatusCodes.Status404NotFound,
        ServiceErrorKind.Conflict => StatusCodes.Status409Conflict,
        ServiceErrorKind.Forbidden => StatusCodes.Status403Forbidden,
        _ => StatusCodes.Status502BadGateway,
    };

    public static IResult Result(int status, string message) => Results.Json(new ErrorBody(message), ApiJson.Default.ErrorBody, statusCode: status);

    public static async Task WriteAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, new ErrorBody(message), ApiJson.Default.ErrorBody, context.RequestAborted).ConfigureAwait(false);
    }
}
