using RoutingCluster.Client;
using RoutingCluster.LoadTests.Load;

namespace RoutingCluster.LoadTests.Tests.Load;

public sealed class WorkloadTests
{
    [Fact]
    public void Agents_GetPrimarySkillsInTheProportionsOfTheMix_AndTheCrossTrainedShareGetsEverySkill()
    {
        var options = LoadOptions.Parse(["--agents", "10", "--skills", "cards:0.7,loans:0.3", "--cross-trained", "0.2", "--run-id", "t1"]);

        var agents = new Workload(options).Agents();

        Assert.Equal(10, agents.Count);
        Assert.Equal(7, agents.Count(a => a.Profile.Skills!.GetValueOrDefault("cards") == Workload.PrimarySkillLevel));
        Assert.Equal(3, agents.Count(a => a.Profile.Skills!.GetValueOrDefault("loans") == Workload.PrimarySkillLevel));
        Assert.Equal(2, agents.Count(a => a.Profile.Skills!.Count == 2));
        Assert.All(agents, a => Assert.Equal(["lt-t1-q1"], a.Profile.Queues));
        Assert.All(agents, a => Assert.Equal(options.Capacity, a.Profile.Capacity));
        Assert.Equal("lt-t1-a0001", agents[0].Id);
        Assert.Equal(agents.Count, agents.Select(a => a.Id).Distinct().Count());
    }

    [Fact]
    public void Sessions_FollowTheChannelAndElderlyShares_WithAgesThatMakeTheSegment()
    {
        var options = LoadOptions.Parse(["--rate", "100", "--duration-s", "100", "--channels", "voice:0.25,chat:0.75", "--elderly-share", "0.2", "--elderly-age", "80", "--queues", "3", "--run-id", "t2"]);

        var plan = new Workload(options).Sessions();

        Assert.InRange(plan.Count, 9_700, 10_300);
        Assert.InRange(plan.Count(p => p.Request.Channel == Channel.Voice) / (double)plan.Count, 0.23, 0.27);
        var elderly = plan.Where(p => p.Elderly).ToList();
        Assert.InRange(elderly.Count / (double)plan.Count, 0.18, 0.22);
        Assert.All(elderly, p => Assert.Equal(80, p.Request.Customer.Age));
        Assert.All(plan.Where(p => !p.Elderly), p => Assert.InRange(p.Request.Customer.Age!.Value, 18, 64));
        Assert.Equal(["lt-t2-q1", "lt-t2-q2", "lt-t2-q3"], plan.Take(3).Select(p => p.Request.QueueId));
        Assert.All(plan, p => Assert.Equal(new Dictionary<string, int> { ["cards"] = 2 }, p.Request.Skills));
        Assert.Equal(plan.Count, plan.Select(p => p.IdempotencyKey).Distinct().Count());
    }

    [Fact]
    public void Sessions_WithTheSameSeed_AreTheSameRequests()
    {
        string[] args = ["--rate", "20", "--duration-s", "10", "--elderly-share", "0.3", "--segments", "vip:0.1", "--run-id", "t3"];

        var first = new Workload(LoadOptions.Parse(args)).Sessions();
        var again = new Workload(LoadOptions.Parse(args)).Sessions();

        Assert.Equal(first.Select(p => (p.AtSeconds, p.Request.Channel, p.Request.Customer.Age, p.Request.Customer.Segments?.Count)),
            again.Select(p => (p.AtSeconds, p.Request.Channel, p.Request.Customer.Age, p.Request.Customer.Segments?.Count)));
    }

    [Fact]
    public void Sessions_AskForCallbacksInTheirShare_AndNoneByDefault()
    {
        var plain = new Workload(LoadOptions.Parse(["--rate", "100", "--duration-s", "100", "--run-id", "t5"])).Sessions();
        var options = LoadOptions.Parse(["--rate", "100", "--duration-s", "100", "--run-id", "t5", "--callback-share", "0.3"]);

        var plan = new Workload(options).Sessions();

        Assert.Equal(0.3, options.CallbackShare);
        Assert.DoesNotContain(plain, p => p.Callback);
        Assert.InRange(plan.Count(p => p.Callback) / (double)plan.Count, 0.28, 0.32);
        Assert.Equal(plain.Select(p => p.AtSeconds), plan.Select(p => p.AtSeconds));
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--callback-share", "1.5"]));
    }
}
