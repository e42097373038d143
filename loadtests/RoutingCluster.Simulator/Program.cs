using System.Globalization;
using System.Text.Json;
using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.VirtualTime;
using RoutingCluster.Simulator;

SimulationOptions options;
try
{
    options = CommandLine.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(CommandLine.Usage);
    return 2;
}

var result = Simulation.Run(options);
Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions
{
    PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    WriteIndented = true,
}));
return 0;

internal static class CommandLine
{
    public const string Usage =
        "usage: --agents <c> --arrivals-per-s <lambda> --aht-s <seconds> --sessions <n> --seed <n> " +
        "[--elderly-share <0..1> --elderly-head-start strict|<seconds>] [--patience-s <mean seconds>] [--warm-up <share>] [--sl-s <seconds>] " +
        "[--callback-over-s <seconds> [--callback-take-up <0..1>]]";

    public static SimulationOptions Parse(string[] args)
    {
        var o = new SimulationOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"{name} needs a value");
            }

            var value = args[++i];
            o = name switch
            {
                "--agents" => o with { Agents = int.Parse(value, CultureInfo.InvariantCulture) },
                "--arrivals-per-s" => o with { ArrivalsPerSecond = Number(value) },
                "--aht-s" => o with { AhtSeconds = Number(value) },
                "--sessions" => o with { Sessions = int.Parse(value, CultureInfo.InvariantCulture) },
                "--seed" => o with { Seed = int.Parse(value, CultureInfo.InvariantCulture) },
                "--elderly-share" => o with { ElderlyShare = Number(value) },
                "--elderly-head-start" => o with
                {
                    ElderlyHeadStart = value == "strict" ? HeadStart.Strict : HeadStart.OfSeconds(Number(value)),
                },
                "--patience-s" => o with { PatienceSeconds = Number(value) },
                "--warm-up" => o with { WarmUpShare = Number(value) },
                "--sl-s" => o with { ServiceLevelSeconds = Number(value) },
                "--callback-over-s" => o with { CallbackOverSeconds = Number(value) },
                "--callback-take-up" => o with { CallbackTakeUp = Number(value) },
                _ => throw new ArgumentException($"unknown option {name}"),
            };
        }

        return o;
    }

    private static double Number(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
}
