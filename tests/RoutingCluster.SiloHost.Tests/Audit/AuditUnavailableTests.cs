using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RoutingCluster.Abstractions.Audit;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Audit;

/// <summary>A configuration change whose audit record cannot be written is refused and changes nothing; what is
/// recorded on the side (an agent's state) goes ahead.</summary>
public sealed class AuditUnavailableTests : IAsyncLifetime
{
    private readonly SwitchableAuditLog _log = new();
    private readonly SiloHostFactory _host;
    private readonly HostApi _api;

    public AuditUnavailableTests()
    {
        _host = SiloHostFactory.Create(new SiloHostOptions { Services = services => services.AddSingleton<IAuditLog>(_log) });
        _api = new HostApi(_host.CreateClient());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task ConfigurationChanges_AreRefusedWith503_AndChangeNothing_WhileTheAuditLogCannotBeWritten()
    {
        var queue = await _api.PutQueue("cards", """{ "wrapUpSeconds": 5 }""");
        await _api.PutAgent("a-1", queue);
        var moveTo = await _api.PutQueue("loans");
        _log.Failing = true;

        var putQueue = await _api.Put($"/v1/queues/{queue}", """{ "wrapUpSeconds": 60 }""");
        var newQueue = await _api.Put("/v1/queues/new", "{}");
        var putAgent = await _api.Put("/v1/agents/a-1", """{ "queues": [ "loans" ] }""");
        var move = await _api.Put("/v1/agents/a-1/queues", $$"""{ "queues": [ "{{moveTo}}" ] }""");
        var state = await _api.Post("/v1/agents/a-1/state", """{ "state": "ready" }""");

        foreach (var refused in new[] { putQueue, newQueue, putAgent, move })
        {
            Assert.Contains("audit record could not be written", refused.Problem(HttpStatusCode.ServiceUnavailable).Str("detail"), StringComparison.Ordinal);
        }

        Assert.Equal("ready", state.Ok().Str("state"));
        _log.Failing = false;
        Assert.Equal(5, (await _api.Get($"/v1/queues/{queue}")).Ok()["wrapUpSeconds"]!.GetValue<double>());
        Assert.Equal(HttpStatusCode.NotFound, (await _api.Get("/v1/queues/new")).Status);
        Assert.Equal([queue], (await _api.Get("/v1/agents/a-1")).Ok().Arr("queues").Select(q => q!.GetValue<string>()));
        Assert.DoesNotContain(_log.Written, r => r.Action == AuditActions.QueueConfigured && r.TargetId == "new");
    }

    private sealed class SwitchableAuditLog : IAuditLog
    {
        private readonly List<AuditRecord> _written = [];

        public volatile bool Failing;

        public IReadOnlyList<AuditRecord> Written
        {
            get
            {
                lock (_written)
                {
                    return [.. _written];
                }
            }
        }

        public Task AppendAsync(AuditRecord record, CancellationToken cancellationToken = default)
        {
            if (Failing)
            {
                return Task.FromException(new InvalidOperationException("the audit database is unreachable"));
            }

            lock (_written)
            {
                _written.Add(record);
            }

            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<AuditRecord>>([.. Written.Where(query.Matches).Reverse().Take(query.Limit)]);
    }
}
