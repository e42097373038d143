namespace RoutingCluster.SiloHost.Api.Validation;

/// <summary>A request body that checks its own fields (ranges, ids, required fields) once it has been read.</summary>
public interface IRequestBody
{
    void Validate(FieldErrors errors);
}
