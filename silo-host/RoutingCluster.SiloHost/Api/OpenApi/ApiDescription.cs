using Scalar.AspNetCore;

namespace RoutingCluster.SiloHost.Api.OpenApi;

/// <summary>
/// The API description generated from the code: the OpenAPI document at <c>/openapi/v1.json</c> (every
/// environment) and an interactive reference page at <c>/scalar</c> (Development only).
/// </summary>
public static class ApiDescription
{
    public const string DocumentName = "v1";

    public static IServiceCollection AddApiDescription(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "RoutingCluster API";
                document.Info.Version = DocumentName;
                document.Info.Description =
                    "Routes customer contacts (sessions) to human agents. JSON fields are camelCase, enum values "
                    + "kebab-case, times ISO-8601 UTC, durations in seconds. Errors are RFC 9457 problem details; "
                    + "validation problems name each field in `errors`.";
                return Task.CompletedTask;
            });
            options.AddSchemaTransformer<WireSchemaTransformer>();
            options.AddDocumentTransformer(WireSchemaTransformer.RequiredFieldsAreNotNull);
        });

    /// <summary>What every route of a resource group may answer besides its own results: 400 (a route id or the
    /// body is invalid, from <see cref="Validation.InputValidationFilter"/>) and 503 (the cluster did not answer
    /// in time or a silo was unavailable).</summary>
    public static RouteGroupBuilder WithApiConventions(this RouteGroupBuilder group, string tag) => group
        .WithTags(tag)
        .ProducesValidationProblem()
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    public static WebApplication MapApiDescription(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous();
        if (app.Environment.IsDevelopment())
        {
            app.MapScalarApiReference().AllowAnonymous();
        }

        return app;
    }
}
