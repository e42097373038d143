using RoutingCluster.Abstractions.Audit;

namespace RoutingCluster.SiloHost.Audit;

/// <summary>
/// The embedded profile's audit log: the newest <see cref="AuditOptions.MemoryCapacity"/> records in the silo's memory
/// (the oldest go first when it is full), lost when the process ends. Each silo of a memory cluster keeps its own; a
/// cluster on PostgreSQL keeps one log for all silos in <c>routing_audit</c>.
/// </summary>
public sealed class MemoryAuditLog(int capacity) : IAuditLog
{
    private readonly AuditRecord[] _ring = new AuditRecord[Math.Max(1, capacity)];
    private readonly Lock _lock = new();
    private long _lastId;

    public Task AppendAsync(AuditRecord record, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _lastId++;
            _ring[_lastId % _ring.Length] = record with { Id = _lastId };
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        var found = new List<AuditRecord>(Math.Min(query.Limit, 256));
        lock (_lock)
        {
            var oldest = Math.Max(1, _lastId - _ring.Length + 1);
            for (var id = _lastId; id >= oldest && found.Count < query.Limit; id--)
            {
                var record = _ring[id % _ring.Length];
                if (query.Matches(record))
                {
                    found.Add(record);
                }
            }
        }

        return Task.FromResult<IReadOnlyList<AuditRecord>>(found);
    }
}
