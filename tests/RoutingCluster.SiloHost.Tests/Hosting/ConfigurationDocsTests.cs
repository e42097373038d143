using System.Reflection;
using System.Text.RegularExpressions;

namespace RoutingCluster.SiloHost.Tests;

/// <summary>
/// docs/configuration.md lists every configuration key the silo host reads. These tests collect the keys from the
/// code itself, so a key added to the code without a row in that table fails the build's tests:
/// <list type="bullet">
/// <item>options classes bound to a configuration section (<c>Configure&lt;T&gt;(configuration.GetSection("X"))</c> or
/// <c>AddOptions&lt;T&gt;().BindConfiguration("X")</c> in silo-host/ and src/): every public settable property of
/// <c>T</c> is the key <c>X:Property</c>; and any other section read (<c>GetSection("X")</c>) has keys in the table;</item>
/// <item>literal keys read directly: <c>configuration["..."]</c>, <c>GetValue&lt;T&gt;("...")</c>,
/// <c>GetConnectionString("X")</c> (the key <c>ConnectionStrings:X</c>), and helpers handed the configuration and
/// a key (<c>Port(configuration, "Orleans:SiloPort")</c>).</item>
/// </list>
/// </summary>
public sealed partial class ConfigurationDocsTests
{
    private static readonly string Root = FindRepositoryRoot();

    [Fact]
    public void EveryOptionsPropertyBoundToASection_IsInConfigurationDocs()
    {
        var bindings = BoundSections();
        Assert.NotEmpty(bindings);
        var documented = DocumentedKeys();

        var missing = new List<string>();
        foreach (var (section, type) in bindings)
        {
            var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.SetMethod is { IsPublic: true })
                .ToList();
            Assert.True(properties.Count > 0, $"{type.FullName}, bound to section {section}, has no public settable property");
            missing.AddRange(properties
                .Select(p => $"{section}:{p.Name}")
                .Where(key => !documented.Contains(key))
                .Select(key => $"{key} ({type.Name}.{key[(section.Length + 1)..]})"));
        }

        Assert.True(missing.Count == 0, "Not in docs/configuration.md: " + string.Join(", ", missing));
    }

    [Fact]
    public void EveryKeyReadLiterallyInTheCode_IsInConfigurationDocs()
    {
        var read = LiteralKeys();

        // The scan must find what is known to be there, or it would pass by finding nothing.
        Assert.Contains("Storage:Provider", read.Keys);
        Assert.Contains("ConnectionStrings:Routing", read.Keys);
        Assert.Contains("Orleans:SiloPort", read.Keys);
        Assert.Contains("Hosting:ShutdownTimeoutSeconds", read.Keys);
        Assert.Contains("Telemetry:Dashboard", read.Keys);

        var documented = DocumentedKeys();
        var missing = read.Where(r => !documented.Contains(r.Key)).Select(r => $"{r.Key} (read in {r.Value})").ToList();
        Assert.True(missing.Count == 0, "Not in docs/configuration.md: " + string.Join(", ", missing));
    }

    [Fact]
    public void EverySectionReadInTheCode_HasItsKeysInConfigurationDocs()
    {
        var documented = DocumentedKeys();
        var sections = SourceFiles()
            .SelectMany(f => SectionRegex().Matches(f.Text).Select(m => (Section: m.Groups["section"].Value, File: Relative(f.File))))
            .ToList();
        Assert.NotEmpty(sections);
        var missing = sections
            .Where(s => !documented.Any(key => key.StartsWith(s.Section + ":", StringComparison.OrdinalIgnoreCase)))
            .Select(s => $"{s.Section} (read in {s.File})")
            .Distinct()
            .ToList();
        Assert.True(missing.Count == 0, "No key of these sections in docs/configuration.md: " + string.Join(", ", missing));
    }

    [Fact]
    public void ConfigurationDocs_HaveOneTableWithOneKeyPerRow()
    {
        var rows = TableRows();
        Assert.True(rows.Count >= 20, $"docs/configuration.md's key table has {rows.Count} rows");
        var keys = rows.Select(r => r.Key).ToList();
        Assert.Equal(keys.Count, keys.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    /// <summary>The (section, options type) pairs bound with <c>Configure&lt;T&gt;(... GetSection("X"))</c>.</summary>
    private static List<(string Section, Type Type)> BoundSections()
    {
        var types = RoutingTypes();
        var found = new List<(string, Type)>();
        foreach (var (file, text) in SourceFiles())
        {
            foreach (Match m in BindRegex().Matches(text).Concat(BindConfigurationRegex().Matches(text)))
            {
                var name = m.Groups["type"].Value.Split('.')[^1];
                var candidates = types.Where(t => t.Name == name).ToList();
                Assert.True(candidates.Count == 1, $"{Relative(file)} binds section {m.Groups["section"].Value} to {name}: found {candidates.Count} such types");
                found.Add((m.Groups["section"].Value, candidates[0]));
            }
        }

        return found;
    }

    /// <summary>Literal keys read in silo-host/ and src/, with the file that reads each.</summary>
    private static Dictionary<string, string> LiteralKeys()
    {
        var keys = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (file, text) in SourceFiles())
        {
            foreach (var regex in new[] { IndexerRegex(), GetValueRegex(), HelperRegex() })
            {
                foreach (Match m in regex.Matches(text))
                {
                    keys.TryAdd(m.Groups["key"].Value, Relative(file));
                }
            }

            foreach (Match m in ConnectionStringRegex().Matches(text))
            {
                keys.TryAdd("ConnectionStrings:" + m.Groups["key"].Value, Relative(file));
            }
        }

        return keys;
    }

    private static HashSet<string> DocumentedKeys() =>
        new(TableRows().Select(r => r.Key), StringComparer.OrdinalIgnoreCase);

    /// <summary>The rows of the key table: the first cell of each is one key in backticks.</summary>
    private static List<(string Key, string Line)> TableRows()
    {
        var path = Path.Combine(Root, "docs", "configuration.md");
        Assert.True(File.Exists(path), "docs/configuration.md is missing");
        var rows = new List<(string, string)>();
        foreach (var line in File.ReadLines(path))
        {
            var m = KeyRowRegex().Match(line);
            if (m.Success)
            {
                rows.Add((m.Groups["key"].Value, line));
            }
        }

        return rows;
    }

    private static IEnumerable<(string File, string Text)> SourceFiles()
    {
        foreach (var folder in new[] { "silo-host", "src" })
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, folder), "*.cs", SearchOption.AllDirectories))
            {
                var parts = Path.GetRelativePath(Root, file).Split(Path.DirectorySeparatorChar);
                if (parts.Contains("bin") || parts.Contains("obj"))
                {
                    continue;
                }

                yield return (file, File.ReadAllText(file));
            }
        }
    }

    private static List<Type> RoutingTypes()
    {
        var host = typeof(Program).Assembly;
        var assemblies = new List<Assembly> { host };
        assemblies.AddRange(host.GetReferencedAssemblies()
            .Where(a => a.Name?.StartsWith("RoutingCluster.", StringComparison.Ordinal) == true)
            .Select(Assembly.Load));
        return [.. assemblies.Distinct().SelectMany(a => a.GetTypes())];
    }

    private static string Relative(string file) => Path.GetRelativePath(Root, file).Replace('\\', '/');

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RoutingCluster.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No RoutingCluster.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex("""Configure<(?<type>[\w.]+)>\(\s*\w+\.GetSection\(\s*"(?<section>[^"]+)"\s*\)\s*\)""")]
    private static partial Regex BindRegex();

    [GeneratedRegex("""AddOptions<(?<type>[\w.]+)>\(\s*\)\s*\.BindConfiguration\(\s*"(?<section>[^"]+)"\s*\)""")]
    private static partial Regex BindConfigurationRegex();

    [GeneratedRegex("""GetSection\(\s*"(?<section>[^"]+)"\s*\)""")]
    private static partial Regex SectionRegex();

    [GeneratedRegex("""[cC]onfiguration\s*\[\s*"(?<key>[^"]+)"\s*\]""")]
    private static partial Regex IndexerRegex();

    [GeneratedRegex("""\.GetValue(?:<[^>()]+>)?\(\s*"(?<key>[^"]+)""")]
    private static partial Regex GetValueRegex();

    [GeneratedRegex("""\(\s*[cC]onfiguration\s*,\s*"(?<key>[^"]+)""")]
    private static partial Regex HelperRegex();

    [GeneratedRegex("""GetConnectionString\(\s*"(?<key>[^"]+)"\s*\)""")]
    private static partial Regex ConnectionStringRegex();

    [GeneratedRegex("""^\|\s*`(?<key>[^`]+)`\s*\|""")]
    private static partial Regex KeyRowRegex();
}
