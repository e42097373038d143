namespace RoutingCluster.SiloHost.Api.Validation;

/// <summary>Validation messages by field, keyed by the field's JSON path in camelCase (<c>customer.age</c>,
/// <c>skills.cards</c>, <c>capacity.voice</c>), as problem details' <c>errors</c> expects them.</summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
        {
            _errors[field] = messages = [];
        }

        messages.Add(message);
    }

    /// <summary>A query string that may hold <paramref name="names"/> only, each at most once: anything else is named.</summary>
    public void OnlyParameters(IQueryCollection query, IReadOnlyList<string> names)
    {
        foreach (var name in query.Keys)
        {
            if (!names.Contains(name, StringComparer.Ordinal))
            {
                Add(name, "Unknown parameter: the parameters are " + string.Join(", ", names) + ".");
            }
            else if (query[name].Count > 1)
            {
                Add(name, "Give it once.");
            }
        }
    }

    public void Required(string field, object? value)
    {
        if (value is null)
        {
            Add(field, "Required.");
        }
    }

    /// <summary>An id of a session, agent, queue or skill: 1 to 128 characters from <c>[A-Za-z0-9._:-]</c>.</summary>
    public void Id(string field, string? value, bool required = false)
    {
        if (value is null)
        {
            if (required)
            {
                Add(field, "Required.");
            }

            return;
        }

        if (Ids.Problem(value) is { } problem)
        {
            Add(field, problem);
        }
    }

    public void Range(string field, int? value, int min, int max)
    {
        if (value is { } v && (v < min || v > max))
        {
            Add(field, $"Must be between {min} and {max}.");
        }
    }

    /// <summary>A duration or count of seconds: a finite number, at least <paramref name="min"/>.</summary>
    public void Seconds(string field, double? value, double min = 0, double max = Limits.MaxSeconds)
    {
        if (value is { } v && (!double.IsFinite(v) || v < min || v > max))
        {
            Add(field, min > 0 ? $"Must be a number of seconds greater than 0 and at most {max}." : $"Must be a number of seconds between {min} and {max}.");
        }
    }

    /// <summary>A rate: a finite number in [0, 1].</summary>
    public void Fraction(string field, double? value)
    {
        if (value is { } v && (!double.IsFinite(v) || v < 0 || v > 1))
        {
            Add(field, "Must be a fraction between 0 and 1.");
        }
    }

    public void Text(string field, string? value, int maxLength, bool required = false)
    {
        if (value is null)
        {
            if (required)
            {
                Add(field, "Required.");
            }

            return;
        }

        if (value.Length == 0 || value.Length > maxLength)
        {
            Add(field, $"Must be 1 to {maxLength} characters.");
        }
    }

    /// <summary>Skills and their levels: skill names are ids, levels 1 to 5.</summary>
    public void Skills(string field, IReadOnlyDictionary<string, int>? skills)
    {
        if (skills is null)
        {
            return;
        }

        if (skills.Count > Limits.MaxSkills)
        {
            Add(field, $"At most {Limits.MaxSkills} skills.");
        }

        foreach (var (name, level) in skills)
        {
            var path = $"{field}.{name}";
            if (Ids.Problem(name) is { } problem)
            {
                Add(path, $"Skill name: {problem}");
            }

            Range(path, level, Limits.MinSkillLevel, Limits.MaxSkillLevel);
        }
    }

    /// <summary>Fields the contract does not have (collected by <c>[JsonExtensionData]</c>): a misspelt field is
    /// refused rather than silently ignored.</summary>
    public void Unknown(string prefix, IReadOnlyDictionary<string, System.Text.Json.JsonElement>? fields)
    {
        foreach (var name in fields?.Keys ?? Enumerable.Empty<string>())
        {
            Add(prefix.Length == 0 ? name : $"{prefix}.{name}", "Unknown field.");
        }
    }

    public Dictionary<string, string[]> ToDictionary() => _errors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal);
}
