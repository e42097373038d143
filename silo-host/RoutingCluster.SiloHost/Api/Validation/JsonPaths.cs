using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RoutingCluster.SiloHost.Api.Validation;

/// <summary>Turns the serializer's JSON paths (<c>$.customer.age</c>, <c>$.relaxation[0].lowerBy</c>,
/// <c>$['odd key']</c>) into field names for problem details, and says what was found there.</summary>
internal static class JsonPaths
{
    /// <summary>A path as its steps: property names (string) and array indexes (int).</summary>
    public static IReadOnlyList<object> Parse(string? path)
    {
        var steps = new List<object>();
        if (string.IsNullOrEmpty(path) || path[0] != '$')
        {
            return steps;
        }

        var i = 1;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var end = i + 1;
                while (end < path.Length && path[end] != '.' && path[end] != '[')
                {
                    end++;
                }

                steps.Add(path[(i + 1)..end]);
                i = end;
            }
            else if (path[i] == '[' && i + 1 < path.Length && path[i + 1] == '\'')
            {
                var end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    break;
                }

                steps.Add(path[(i + 2)..end]);
                i = end + 2;
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i + 1);
                if (end < 0 || !int.TryParse(path.AsSpan(i + 1, end - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    break;
                }

                steps.Add(index);
                i = end + 1;
            }
            else
            {
                break;
            }
        }

        return steps;
    }

    /// <summary>The field name: steps joined with dots, indexes in brackets (<c>relaxation[0].lowerBy</c>).</summary>
    public static string Field(IReadOnlyList<object> steps)
    {
        if (steps.Count == 0)
        {
            return "body";
        }

        var sb = new StringBuilder();
        foreach (var step in steps)
        {
            if (step is int index)
            {
                sb.Append(CultureInfo.InvariantCulture, $"[{index}]");
            }
            else
            {
                if (sb.Length > 0)
                {
                    sb.Append('.');
                }

                sb.Append((string)step);
            }
        }

        return sb.ToString();
    }

    /// <summary>What the body holds at the path ("a string", "a number", "null", ...), for the error message: its kind,
    /// never its value (a customer id sent as a number, an age, an attribute must not come back in an answer).</summary>
    public static string Describe(JsonElement root, IReadOnlyList<object> steps)
    {
        var current = root;
        foreach (var step in steps)
        {
            if (step is int index && current.ValueKind == JsonValueKind.Array && index < current.GetArrayLength())
            {
                current = current[index];
            }
            else if (step is string name && current.ValueKind == JsonValueKind.Object && current.TryGetProperty(name, out var child))
            {
                current = child;
            }
            else
            {
                return "an unexpected value";
            }
        }

        return current.ValueKind switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            JsonValueKind.Null => "null",
            JsonValueKind.Array => "an array",
            JsonValueKind.Object => "an object",
            _ => "an unexpected value",
        };
    }
}
