using System.Threading.RateLimiting;

namespace RoutingCluster.SiloHost.Access;

/// <summary>
/// A token bucket on a <see cref="TimeProvider"/>: <see cref="TokenBucket.PerSecond"/> tokens a second, refilled as
/// time passes, up to <see cref="TokenBucket.Burst"/>; a request takes one or is refused at once (no queue), with the
/// time until the next token as its <see cref="MetadataName.RetryAfter"/>. On the routing clock so that tests hold
/// time still; the framework's own bucket runs on the machine's clock only.
/// </summary>
internal sealed class ClockTokenBucket : RateLimiter
{
    private readonly Lock _lock = new();
    private readonly TokenBucket _bucket;
    private readonly TimeProvider _time;
    private double _tokens;
    private long _refilledAt;
    private long _usedAt;

    public ClockTokenBucket(TokenBucket bucket, TimeProvider time)
    {
        _bucket = bucket;
        _time = time;
        _tokens = bucket.Burst;
        _refilledAt = _usedAt = time.GetTimestamp();
    }

    /// <summary>How long the bucket has been full and unused (so the partitioned limiter may drop it), or null.</summary>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_lock)
            {
                Refill();
                return _tokens >= _bucket.Burst ? _time.GetElapsedTime(_usedAt) : null;
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_lock)
        {
            Refill();
            return new RateLimiterStatistics { CurrentAvailablePermits = (long)_tokens };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        lock (_lock)
        {
            Refill();
            _usedAt = _time.GetTimestamp();
            if (_tokens >= permitCount)
            {
                _tokens -= permitCount;
                return Lease.Granted;
            }

            var wait = _bucket.PerSecond > 0 ? TimeSpan.FromSeconds((permitCount - _tokens) / _bucket.PerSecond) : TimeSpan.FromSeconds(60);
            return new Lease(false, wait);
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    private void Refill()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_refilledAt, now);
        _refilledAt = now;
        if (elapsed > TimeSpan.Zero)
        {
            _tokens = Math.Min(_bucket.Burst, _tokens + (elapsed.TotalSeconds * _bucket.PerSecond));
        }
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Granted = new(true, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter : null;
            return metadata is not null;
        }
    }
}
