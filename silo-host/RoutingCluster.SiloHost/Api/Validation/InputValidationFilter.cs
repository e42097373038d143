namespace RoutingCluster.SiloHost.Api.Validation;

/// <summary>
/// Runs before every handler of the API: checks the ids in the route and the request body (read by
/// <see cref="JsonBody{T}"/>, then <see cref="IRequestBody.Validate"/>), and answers 400 (validation problem
/// naming each field), 413 or 415 itself. So bad input never reaches a handler, let alone a grain.
/// </summary>
public sealed class InputValidationFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var errors = new FieldErrors();
        foreach (var (name, value) in context.HttpContext.Request.RouteValues)
        {
            errors.Id(name, value as string ?? string.Empty, required: true);
        }

        foreach (var argument in context.Arguments)
        {
            if (argument is not IJsonBody body)
            {
                continue;
            }

            if (body.Error is { } error)
            {
                if (error.Status != StatusCodes.Status400BadRequest)
                {
                    return TypedResults.Problem(statusCode: error.Status, detail: error.Message);
                }

                errors.Add(error.Field, error.Message);
            }
            else
            {
                body.Body?.Validate(errors);
            }
        }

        return errors.Any ? TypedResults.ValidationProblem(errors.ToDictionary()) : await next(context);
    }
}
