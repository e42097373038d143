using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.VirtualTime;
using Xunit.Abstractions;

namespace RoutingCluster.Simulator.Tests;

/// <summary>Callbacks in the simulator: proposed over a bound and taken, they shorten the customers' time on the line
/// and change nothing in the order of service (an immediate callback keeps its place).</summary>
public class CallbackSimulationTests(ITestOutputHelper output)
{
    [Fact]
    public void CallbacksProposedOverABound_ShortenTimeOnTheLine_AndLeaveTheOrderOfServiceUnchanged()
    {
        // c = 10, AHT = 120 s, ρ = 0.95, 20% elderly with a 60-s head start: long waits, so many estimates pass 60 s.
        var plain = new SimulationOptions
        {
            Agents = 10, ArrivalsPerSecond = 0.95 * 10 / 120, AhtSeconds = 120, Sessions = 200_000, Seed = 3,
            ElderlyShare = 0.2, ElderlyHeadStart = HeadStart.OfSeconds(60),
        };
        var withCallbacks = plain with { CallbackOverSeconds = 60, CallbackTakeUp = 0.6 };

        var before = Simulation.Run(plain);
        var after = Simulation.Run(withCallbacks);
        output.WriteLine($"without: on the line {before.MeanTimeOnLineSeconds:F1} s, ASA {before.AsaSeconds:F1} s");
        output.WriteLine($"with:    on the line {after.MeanTimeOnLineSeconds:F1} s, ASA {after.AsaSeconds:F1} s, callbacks {after.Callbacks} of {after.Sessions}");

        Assert.Equal(0, before.Callbacks);
        Assert.Equal(before.AsaSeconds, before.MeanTimeOnLineSeconds, 9); // no callback, no abandon: time on the line is the wait
        Assert.InRange(after.Callbacks, after.Sessions / 10, after.Sessions);

        // The same sessions answered in the same order, at the same times: only who waits on the line changed.
        Assert.Equal(before.ServiceOrderDigest, after.ServiceOrderDigest);
        Assert.Equal(before.Answered, after.Answered);
        Assert.Equal(before.AsaSeconds, after.AsaSeconds, 9);
        Assert.Equal(before.ServiceLevel, after.ServiceLevel, 9);
        Assert.Equal(before.OvertakingsBeyondHeadStart, after.OvertakingsBeyondHeadStart);

        Assert.True(after.MeanTimeOnLineSeconds < before.MeanTimeOnLineSeconds * 0.8,
            $"time on the line {after.MeanTimeOnLineSeconds:F1} s is not well below {before.MeanTimeOnLineSeconds:F1} s");
    }

    [Fact]
    public void CallbacksTaken_AreNotAbandoned_WhileTheirPatienceRunsOut()
    {
        var plain = new SimulationOptions
        {
            Agents = 6, ArrivalsPerSecond = 0.1, AhtSeconds = 60, Sessions = 100_000, Seed = 5, PatienceSeconds = 60,
        };

        var before = Simulation.Run(plain);
        var after = Simulation.Run(plain with { CallbackOverSeconds = 20 });
        output.WriteLine($"abandon rate without {before.AbandonRate:P2}, with callbacks {after.AbandonRate:P2} ({after.Callbacks} callbacks)");

        Assert.True(after.Callbacks > 0);
        Assert.True(after.AbandonRate < before.AbandonRate, "callbacks taken still abandoned");
        Assert.Equal(after.Sessions, after.Answered + after.Abandoned);
    }
}
