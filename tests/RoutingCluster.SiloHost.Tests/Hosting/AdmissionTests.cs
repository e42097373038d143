using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RoutingCluster.SiloHost.Api;
using RoutingCluster.SiloHost.Hosting;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Hosting;

/// <summary>Admission of new sessions: refused from measured delay or creates in flight, priority customers last,
/// and nothing but new sessions ever refused.</summary>
public sealed class AdmissionTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void TryAdmit_WhenTheMeasuredDelayPassesTheBound_RefusesOrdinaryCustomers_AndPriorityOnlyPastTheirHigherBound()
    {
        using var meter = new Meter("admission-test");
        var admission = new SessionAdmission(Options(), _time, NullLogger<SessionAdmission>.Instance, meter);
        using (Assert.IsType<AdmissionTicket>(admission.TryAdmit(priority: false)))
        {
        }

        admission.RecordQueueing(TimeSpan.FromMilliseconds(300));
        Assert.Equal(TimeSpan.FromMilliseconds(300), admission.Delay);
        Assert.Null(admission.TryAdmit(priority: false));
        using (Assert.IsType<AdmissionTicket>(admission.TryAdmit(priority: true)))
        {
        }

        admission.RecordQueueing(TimeSpan.FromMilliseconds(1_500)); // the median of two is the later: past the priority bound too
        Assert.Null(admission.TryAdmit(priority: true));
        Assert.Equal(0, admission.InFlight);
    }

    [Fact]
    public void TryAdmit_WhenCreatesInFlightReachTheBound_RefusesTheNext_UntilOneIsAnswered()
    {
        using var meter = new Meter("admission-test");
        var options = Options();
        options.MaxCreatesInFlight = 2;
        options.PriorityMaxCreatesInFlight = 3;
        var admission = new SessionAdmission(options, _time, NullLogger<SessionAdmission>.Instance, meter);
        var first = admission.TryAdmit(priority: false);
        var second = admission.TryAdmit(priority: false);
        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Null(admission.TryAdmit(priority: false));
        var priority = admission.TryAdmit(priority: true);
        Assert.NotNull(priority);
        Assert.Null(admission.TryAdmit(priority: true));
        Assert.Equal(3, admission.InFlight);

        first!.Dispose();
        first.Dispose(); // answered once, counted once
        Assert.Equal(2, admission.InFlight);
        Assert.Null(admission.TryAdmit(priority: false));
        priority!.Dispose();
        using (Assert.IsType<AdmissionTicket>(admission.TryAdmit(priority: false)))
        {
        }

        second!.Dispose();
        Assert.Equal(0, admission.InFlight);
    }

    [Fact]
    public void Delay_CountsHowLongAdmittedCreatesTook_AndIsForgottenTwoWindowsLater_SoAdmissionOpensAgain()
    {
        using var meter = new Meter("admission-test");
        var admission = new SessionAdmission(Options(), _time, NullLogger<SessionAdmission>.Instance, meter);
        var slow = admission.TryAdmit(priority: false)!;
        _time.Advance(TimeSpan.FromMilliseconds(400));
        slow.Dispose();
        Assert.Equal(TimeSpan.FromMilliseconds(400), admission.Delay);
        Assert.Null(admission.TryAdmit(priority: false));

        _time.Advance(TimeSpan.FromSeconds(1.5)); // within two windows: still counted
        Assert.Null(admission.TryAdmit(priority: false));
        _time.Advance(TimeSpan.FromSeconds(0.6)); // older than two windows: forgotten
        Assert.Equal(TimeSpan.Zero, admission.Delay);
        using (Assert.IsType<AdmissionTicket>(admission.TryAdmit(priority: false)))
        {
        }
    }

    [Fact]
    public void Delay_IsTheMedianOfEnoughRecentSamples_SoAFewStallsRefuseNobody()
    {
        using var meter = new Meter("admission-test");
        var options = Options();
        options.MinimumSamples = 16;
        var admission = new SessionAdmission(options, _time, NullLogger<SessionAdmission>.Instance, meter);
        for (var i = 0; i < 15; i++)
        {
            admission.RecordQueueing(TimeSpan.FromSeconds(2)); // a cold start: slow, but too few to judge by
        }

        Assert.Equal(TimeSpan.Zero, admission.Delay);
        for (var i = 0; i < 20; i++)
        {
            admission.RecordQueueing(TimeSpan.FromMilliseconds(5));
        }

        Assert.Equal(TimeSpan.FromMilliseconds(5), admission.Delay);
        using (Assert.IsType<AdmissionTicket>(admission.TryAdmit(priority: false)))
        {
        }

        for (var i = 0; i < 40; i++)
        {
            admission.RecordQueueing(TimeSpan.FromMilliseconds(400)); // a backlog: most samples are slow now
        }

        Assert.Null(admission.TryAdmit(priority: false));
    }

    [Fact]
    public void Delay_CountsHowLongTheCreatesInFlightHaveWaited_BeforeAnyOfThemIsAnswered()
    {
        using var meter = new Meter("admission-test");
        var admission = new SessionAdmission(Options(), _time, NullLogger<SessionAdmission>.Instance, meter);
        using var first = Assert.IsType<AdmissionTicket>(admission.TryAdmit(priority: false));
        _time.Advance(TimeSpan.FromMilliseconds(100));
        using var second = Assert.IsType<AdmissionTicket>(admission.TryAdmit(priority: false));
        _time.Advance(TimeSpan.FromMilliseconds(200)); // waited 300 and 200 ms: 250 on average, none answered yet

        Assert.Equal(TimeSpan.FromMilliseconds(250), admission.Delay);
        Assert.Null(admission.TryAdmit(priority: false));
        using (Assert.IsType<AdmissionTicket>(admission.TryAdmit(priority: true)))
        {
        }
    }

    [Fact]
    public void TryAdmit_WhenDisabled_TakesEverything()
    {
        using var meter = new Meter("admission-test");
        var options = Options();
        options.Enabled = false;
        options.MaxCreatesInFlight = 0;
        var admission = new SessionAdmission(options, _time, NullLogger<SessionAdmission>.Instance, meter);
        admission.RecordQueueing(TimeSpan.FromSeconds(10));
        using (Assert.IsType<AdmissionTicket>(admission.TryAdmit(priority: false)))
        {
        }
    }

    [Fact]
    public async Task Create_WhenOverloaded_Answers503WithRetryAfter_CreatesNothing_WhilePriorityCustomersAndAgentsAreServed()
    {
        // No ordinary create may be in flight: every one is refused by admission; priority customers still have room.
        using var host = SiloHostFactory.Create(new SiloHostOptions
        {
            Settings = new Dictionary<string, string> { ["Admission:MaxCreatesInFlight"] = "0" },
        });
        var api = new HostApi(host.CreateClient());
        var queue = await api.PutQueue(HostApi.NewId("shed"));
        var agent = HostApi.NewId("a");
        await api.PutAgent(agent, queue);
        var key = Guid.NewGuid().ToString();

        var refused = await api.Post("/v1/sessions", $$"""{ "queueId": "{{queue}}", "channel": "voice", "customer": { "id": "c-1", "age": 40 } }""", key);

        var problem = refused.Problem(HttpStatusCode.ServiceUnavailable);
        Assert.Equal(Problems.OverloadedType, problem.Str("type"));
        Assert.Equal("1", refused.RetryAfter);
        Assert.Equal(HttpStatusCode.NotFound, (await api.Get($"/v1/sessions/{SessionsApi.SessionIdForKey(TestTokens.Gateway, key)}")).Status);

        // Agent actions are never refused; elderly customers (by age or segment) are taken.
        var ready = await api.SetState(agent, "ready");
        Assert.Empty(ready.Arr("offers"));
        var elderly = await api.CreateSession(queue, age: 80);
        var segment = await api.Post("/v1/sessions", $$"""{ "queueId": "{{queue}}", "channel": "chat", "customer": { "id": "c-3", "segments": [ "disabled" ] } }""");
        Assert.Equal(HttpStatusCode.Created, segment.Status);
        var offered = await api.PollUntil($"/v1/agents/{agent}", a => a.Arr("offers").Count == 1);
        Assert.Equal(elderly, offered.Arr("offers")[0]!.Str("sessionId"));
        Assert.Equal(HttpStatusCode.OK, (await api.Post($"/v1/agents/{agent}/offers/{elderly}/accept")).Status);
        Assert.Equal(HttpStatusCode.OK, (await api.Post($"/v1/agents/{agent}/sessions/{elderly}/end")).Status);
    }

    private static AdmissionOptions Options() => new()
    {
        MaxDelay = TimeSpan.FromMilliseconds(150),
        PriorityMaxDelay = TimeSpan.FromMilliseconds(600),
        MaxCreatesInFlight = 100,
        PriorityMaxCreatesInFlight = 200,
        Window = TimeSpan.FromSeconds(1),
        MinimumSamples = 1,
    };
}
