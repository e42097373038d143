using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.Placement;
using RoutingCluster.Client;
using RoutingCluster.Recovery.Tests.Infrastructure;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Recovery.Tests;

/// <summary>Tests that start silo host processes and kill or stop them run alone, after the others: a silo's death is
/// detected by probes with timeouts of a few seconds, which a machine busy with other tests would stretch.</summary>
[CollectionDefinition(nameof(SiloProcessCollection), DisableParallelization = true)]
public sealed class SiloProcessCollection;

/// <summary>
/// An agent desktop connected to silo A while its agent's grain lives on silo B, and B is killed (SIGKILL: no grain on
/// it says anything). The agent's grain comes back on A knowing no desktop; A's desktop relay, told by the cluster
/// membership that B is dead, registers the desktop again, so the next offer reaches it. A is the silo host
/// in this process (on Kestrel, postgres profile), B a separate silo host process on the same database.
/// </summary>
[Collection(nameof(SiloProcessCollection))]
public sealed class DesktopSiloKillTests(ThrowawayPostgres postgres, ITestOutputHelper output) : IClassFixture<ThrowawayPostgres>
{
    /// <summary>From the kill to the offer on the desktop. B is declared dead after a few seconds of missed probes
    /// (single-host membership: 2-s probes, three missed); the periodic renewal, the relay's backstop, is pushed out
    /// to 10 minutes here, so without the reaction to B's death nothing would reach the desktop in this time.</summary>
    private static readonly TimeSpan OfferWithin = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan StartWithin = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Desktop_OnA_WhenTheSiloHoldingItsAgentIsKilled_ReceivesTheNextOffer_WithoutWaitingForTheRenewal()
    {
        var connectionString = await postgres.CreateSchemaAsync("desktopkill");
        var settings = new Dictionary<string, string> { ["Agents:DesktopRenewInterval"] = "00:10:00" };
        var hostA = HostSettings.For(connectionString) with { Extra = settings };
        await using var a = RecoveryHost.OnKestrel(hostA);
        using var b = new SiloProcess(1, connectionString, settings);
        try
        {
            b.Start();
            await b.WaitReadyAsync(StartWithin);
            var grains = a.Services.GetRequiredService<IGrainFactory>();
            var management = grains.GetGrain<IManagementGrain>(0);
            await Until(async () => (await management.GetHosts(onlyActive: true)).Count == 2, StartWithin, "A sees two active silos");

            using var httpA = new HttpClient(TestTokens.Handler(new HttpClientHandler())) { BaseAddress = a.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
            using var httpB = new HttpClient(TestTokens.Handler(new HttpClientHandler())) { BaseAddress = b.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
            var apiA = new HostApi(httpA);
            var apiB = new HostApi(httpB);
            await apiA.PutQueue("cards", """{ "offerTimeoutSeconds": 30 }""");

            // The agent's grain is activated on B (Orleans' placement hint: placement alone would choose by load), then
            // the agent is created through B's API.
            const string agentId = "a-kill";
            var siloB = (await management.GetHosts(onlyActive: true)).Keys.Single(silo => silo.Endpoint.Port == b.SiloPort);
            RequestContext.Set(IPlacementDirector.PlacementHintKey, siloB);
            try
            {
                await grains.GetGrain<RoutingCluster.Abstractions.Agents.IAgentGrain>(agentId).GetAsync();
            }
            finally
            {
                RequestContext.Remove(IPlacementDirector.PlacementHintKey);
            }

            await apiB.PutAgent(agentId, "cards");
            Assert.Equal(b.SiloPort, await SiloPortOfAsync(grains, agentId));
            await using var desktop = new AgentDesktopClient(a.BaseAddress, TestTokenSources.Desktop());
            var offered = new TaskCompletionSource<(string SessionId, string How, TimeSpan At)>(TaskCreationOptions.RunContinuationsAsynchronously);
            var sinceKill = new Stopwatch();
            desktop.OfferReceived += (offer, _) =>
            {
                offered.TrySetResult((offer.SessionId, "offer", sinceKill.Elapsed));
                return Task.CompletedTask;
            };

            // A desktop registered again after an offer was made learns of the offer in the agent's view instead.
            desktop.AgentChanged += agent =>
            {
                if (agent.Offers.Count > 0)
                {
                    offered.TrySetResult((agent.Offers[0].SessionId, "agentChanged", sinceKill.Elapsed));
                }

                return Task.CompletedTask;
            };
            await desktop.SignInAsync(agentId);
            Assert.True((await desktop.SetStateAsync(AgentState.Ready)).Ok);
            Assert.Equal(b.SiloPort, await SiloPortOfAsync(grains, agentId));

            b.Kill();
            sinceKill.Start();
            var killedAt = DateTime.Now;
            var sessionId = await CreateSessionAsync(apiA, OfferWithin);
            var createdAt = sinceKill.Elapsed;
            var left = OfferWithin - sinceKill.Elapsed;
            var seen = await Task.WhenAny(offered.Task, Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero));
            Assert.True(seen == offered.Task,
                $"the desktop on A had no offer of session {sessionId} (created {createdAt.TotalSeconds:F1} s after B was killed) within {OfferWithin.TotalSeconds:F0} s of the kill; " +
                $"the session is {(await apiA.Get($"/v1/sessions/{sessionId}")).Body}");
            var (offeredSession, how, at) = await offered.Task;
            output.WriteLine($"B killed at {killedAt:HH:mm:ss.fff}; session created through A after {createdAt.TotalSeconds:F1} s; the desktop on A had the offer ({how}) {at.TotalSeconds:F1} s after the kill");

            Assert.Equal(sessionId, offeredSession);
            Assert.Equal(hostA.SiloPort, await SiloPortOfAsync(grains, agentId));
            Assert.True((await desktop.AcceptAsync(sessionId)).Ok);
            Assert.Equal("connected", HostApi.Str((await apiA.Get($"/v1/sessions/{sessionId}")).Success(), "state"));
        }
        catch (Exception) when (Report(b))
        {
            throw;
        }
    }

    /// <summary>Creates a session through A, retrying while the cluster has not yet caught up with the kill.</summary>
    private static async Task<string> CreateSessionAsync(HostApi api, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            try
            {
                var reply = await api.Post("/v1/sessions",
                    """{ "queueId": "cards", "channel": "voice", "customer": { "id": "c-kill" }, "skills": { "cards": 2 } }""", "desktop-kill-1");
                if (reply.Status is HttpStatusCode.Created or HttpStatusCode.OK)
                {
                    return HostApi.Str(reply.Success(), "id");
                }

                if ((int)reply.Status < 500 || DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"Create session: {(int)reply.Status} {reply.Body}");
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && DateTime.UtcNow <= deadline)
            {
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The silo port of the silo where the agent's grain is active (null: not active), as A knows it.</summary>
    private static async Task<int?> SiloPortOfAsync(IGrainFactory grains, string agentId)
    {
        var grain = grains.GetGrain<RoutingCluster.Abstractions.Agents.IAgentGrain>(agentId);
        return (await grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grain))?.Endpoint.Port;
    }

    private static async Task Until(Func<Task<bool>> condition, TimeSpan within, string what)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not within {within}: {what}");
            }

            await Task.Delay(200);
        }
    }

    private bool Report(SiloProcess silo)
    {
        output.WriteLine(silo.Tail(80));
        return false;
    }
}
