using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using RoutingCluster.SiloHost.Api.Json;

namespace RoutingCluster.SiloHost.Api.Validation;

/// <summary>Why a request body could not be read: 400 (not JSON, wrong type, unknown value), 413 or 415.</summary>
public sealed record BodyError(int Status, string Field, string Message);

/// <summary>A body that was read, or the reason it could not be; <see cref="InputValidationFilter"/> answers for it.</summary>
public interface IJsonBody
{
    BodyError? Error { get; }

    IRequestBody? Body { get; }
}

/// <summary>
/// A JSON request body of type <typeparamref name="T"/>, read by the API itself rather than by the framework's
/// binder, so that every kind of bad body (too large, not JSON, a wrong JSON type, an unknown enum value) becomes
/// a problem-details answer that names the field, never an exception or an empty 400.
/// </summary>
public sealed class JsonBody<T> : IJsonBody, IEndpointParameterMetadataProvider
    where T : class, IRequestBody
{
    private JsonBody(T? value, BodyError? error)
    {
        Value = value!;
        Error = error;
    }

    /// <summary>The body; only read by handlers, which run only when there was no <see cref="Error"/>.</summary>
    public T Value { get; }

    public BodyError? Error { get; }

    IRequestBody? IJsonBody.Body => Error is null ? Value : null;

    public static async ValueTask<JsonBody<T>?> BindAsync(HttpContext context, ParameterInfo parameter)
    {
        var request = context.Request;
        if (request.ContentLength > Limits.MaxBodyBytes)
        {
            return TooLarge();
        }

        byte[] bytes;
        try
        {
            bytes = await ReadAsync(request.Body, context.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge();
        }
        catch (InvalidDataException)
        {
            return TooLarge();
        }

        if (bytes.Length == 0)
        {
            return Fail(StatusCodes.Status400BadRequest, "body", "A JSON body is required.");
        }

        if (!request.HasJsonContentType())
        {
            return Fail(StatusCodes.Status415UnsupportedMediaType, "body", "The body must be JSON (Content-Type: application/json).");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = WireJson.Requests.MaxDepth, AllowDuplicateProperties = false });
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" (line {line + 1}, byte {ex.BytePositionInLine + 1})" : string.Empty;
            return Fail(StatusCodes.Status400BadRequest, "body", $"The body is not valid JSON, or repeats a field{where}.");
        }
        catch (InvalidOperationException)
        {
            // A field name escaping a lone surrogate ("\ud800"): the parser finds it not valid UTF-16 only when it
            // compares the names for duplicates, and says so with this exception rather than a JsonException.
            return Fail(StatusCodes.Status400BadRequest, "body", "The body is not valid JSON: a field name is not valid UTF-16.");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return Fail(StatusCodes.Status400BadRequest, "body", "The body must be a JSON object.");
            }

            try
            {
                return new JsonBody<T>(document.RootElement.Deserialize<T>(WireJson.Requests), null);
            }
            catch (JsonException ex)
            {
                var path = JsonPaths.Parse(ex.Path);
                var message = ex is WireValueException
                    ? ex.Message
                    : $"Wrong JSON type or value out of range (found {JsonPaths.Describe(document.RootElement, path)}).";
                return Fail(StatusCodes.Status400BadRequest, JsonPaths.Field(path), message);
            }
        }
    }

    /// <summary>For the API description: the body's type, and the answers for a body too large (413) or not JSON (415).</summary>
    public static void PopulateMetadata(ParameterInfo parameter, EndpointBuilder builder)
    {
        builder.Metadata.Add(new AcceptsMetadata(["application/json"], typeof(T)));
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status413PayloadTooLarge, typeof(ProblemDetails), ["application/problem+json"]));
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status415UnsupportedMediaType, typeof(ProblemDetails), ["application/problem+json"]));
    }

    private static async Task<byte[]> ReadAsync(Stream body, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > Limits.MaxBodyBytes)
            {
                throw new InvalidDataException("The body is larger than the limit.");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static JsonBody<T> TooLarge() =>
        Fail(StatusCodes.Status413PayloadTooLarge, "body", $"The body is larger than {Limits.MaxBodyBytes / 1024} KiB.");

    private static JsonBody<T> Fail(int status, string field, string message) => new(null, new BodyError(status, field, message));
}
