using System.Reflection;
using Microsoft.Extensions.Logging;

namespace RoutingCluster.Client.Tests;

/// <summary>
/// Log event ids of the silo host, the grains, the persistence and the client: every <c>[LoggerMessage]</c> method has an
/// id of its own, taken from the one table (<see cref="LogEventIds"/>). Read from the compiled assemblies, so a log method
/// added anywhere is checked without being listed here.
/// </summary>
public sealed class LogEventIdTests
{
    /// <summary>Every project under src/ and silo-host/ (this project references them all, through the silo host).</summary>
    private static readonly Assembly[] Shipped =
    [
        typeof(RoutingCluster.Routing.Model.QueuePolicy).Assembly,
        typeof(RoutingCluster.Abstractions.Events.SessionUpdate).Assembly,
        typeof(RoutingCluster.Grains.Infrastructure.RoutingLog).Assembly,
        typeof(RoutingCluster.Persistence.PostgresSchema).Assembly,
        typeof(Program).Assembly,
        typeof(RoutingClient).Assembly,
    ];

    [Fact]
    public void LogMethods_EachHaveAnEventIdOfTheirOwn()
    {
        var methods = LogMethods(Shipped);

        Assert.True(methods.Count >= 40, $"Only {methods.Count} log methods found: are the assemblies read?");
        Assert.Empty(SharedEventIds(methods));
    }

    [Fact]
    public void LogMethods_TakeTheirEventIdFromTheTable()
    {
        var table = TableIds();

        Assert.Empty(table.GroupBy(c => c.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(c => c.Name))}"));
        var known = table.Select(c => c.Id).ToHashSet();
        Assert.Empty(LogMethods(Shipped).Where(m => !known.Contains(m.EventId)).Select(m => $"{m.Method} ({m.EventId})"));
    }

    [Fact]
    public void SharedEventIds_FindsTwoLogMethodsWithTheSameId()
    {
        var methods = LogMethods([typeof(LogEventIdTests).Assembly]);

        var shared = Assert.Single(SharedEventIds(methods));
        Assert.Equal($"{SameIdLogs.Id}: {typeof(SameIdLogs.First).FullName}.Logged, {typeof(SameIdLogs.Second).FullName}.Logged", shared);
    }

    /// <summary>Each <c>[LoggerMessage]</c> method of the assemblies, by its type and name, with its event id.</summary>
    private static List<(string Method, int EventId)> LogMethods(IEnumerable<Assembly> assemblies) =>
        [.. from assembly in assemblies
            from type in assembly.GetTypes()
            from method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            let attribute = method.GetCustomAttribute<LoggerMessageAttribute>()
            where attribute is not null
            orderby type.FullName, method.Name
            select ($"{type.FullName}.{method.Name}", attribute.EventId)];

    /// <summary>The ids that more than one method uses: <c>"id: method, method"</c>.</summary>
    private static List<string> SharedEventIds(IEnumerable<(string Method, int EventId)> methods) =>
        [.. methods.GroupBy(m => m.EventId).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Method))}")];

    private static List<(string Name, int Id)> TableIds() =>
        [.. typeof(LogEventIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(int))
            .Select(f => (f.Name, (int)f.GetRawConstantValue()!))];
}

/// <summary>Two log methods in two classes with one id (the logging generator sees only one class at a time):
/// what <see cref="LogEventIdTests.SharedEventIds_FindsTwoLogMethodsWithTheSameId"/> must find.</summary>
internal static partial class SameIdLogs
{
    public const int Id = 9001;

    internal static partial class First
    {
        [LoggerMessage(EventId = Id, Level = LogLevel.Debug, Message = "First")]
        public static partial void Logged(ILogger logger);
    }

    internal static partial class Second
    {
        [LoggerMessage(EventId = Id, Level = LogLevel.Debug, Message = "Second")]
        public static partial void Logged(ILogger logger);
    }
}
