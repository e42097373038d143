using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace RoutingCluster.Persistence.Storage;

/// <summary>
/// Group commit: the grain-state writes of many grains that arrive within a few milliseconds go to PostgreSQL as one
/// transaction, and each write's task completes only once that transaction has committed. A grain awaits its own
/// write before it acknowledges anything, so nothing acknowledged can be lost by a crash (a <c>kill -9</c> loses only
/// writes nobody was told about), while the database commits once per batch instead of once per write.
/// </summary>
/// <remarks>
/// <para>
/// One batch at a time is in flight. The first write of a batch waits up to <see cref="PostgresGroupCommitOptions.Window"/>
/// for company; writes that arrive while a batch commits form the next one. A batch is one round trip of statements
/// (<see cref="NpgsqlBatch"/>, one per write) inside one transaction; each statement keeps its own ETag condition and
/// returns its own result, so a version conflict stays one grain's business.
/// </para>
/// <para>
/// Failures: when the server refuses a statement (a <see cref="PostgresException"/>) the whole transaction was rolled
/// back and nothing of it is stored; every write of the batch is then tried again alone, so only the one at fault
/// fails. When the connection fails (unreachable, dropped, timed out) the outcome is unknown: every write of the batch
/// fails with that error, and each storage raises it so that Orleans resets the activation (<see cref="WriteFailures"/>).
/// </para>
/// </remarks>
internal sealed class PostgresWriteBatcher : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly PostgresGroupCommitOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<PendingWrite> _writes = Channel.CreateUnbounded<PendingWrite>();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private long _batches;
    private long _written;

    public PostgresWriteBatcher(string connectionString, PostgresGroupCommitOptions options, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Window, TimeSpan.Zero);
        _connectionString = connectionString;
        _options = options;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Transactions sent so far (each carries one or more writes).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Writes sent so far, in all batches.</summary>
    public long Writes => Interlocked.Read(ref _written);

    /// <summary>
    /// Runs <paramref name="sql"/> in the next batch and returns the first column of its first row as an integer (the
    /// new version), or <see langword="null"/> when the statement returned no row (an ETag condition that did not
    /// hold). The task completes after the batch's transaction has committed.
    /// </summary>
    /// <remarks>Every statement must return a result set (<c>RETURNING</c>): results are matched to writes by position,
    /// and PostgreSQL sends none for a statement without one, which would shift every later write's result.</remarks>
    public Task<int?> ExecuteAsync(string sql, Action<NpgsqlParameterCollection> bind)
    {
        if (!sql.Contains("RETURNING", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException("A statement of the group commit must return a result set (RETURNING ...).", nameof(sql));
        }

        var write = new PendingWrite(sql, bind, _options.Time.GetTimestamp());
        if (!_writes.Writer.TryWrite(write))
        {
            throw new ObjectDisposedException(nameof(PostgresWriteBatcher), "The silo is stopping: no more writes are taken.");
        }

        return write.Done.Task;
    }

    public async ValueTask DisposeAsync()
    {
        // Whatever was queued is still written; only the window stops being waited for.
        _writes.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        var batch = new List<PendingWrite>(_options.MaxBatchSize);
        var reader = _writes.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            await WaitForCompanyAsync(reader).ConfigureAwait(false);
            while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            try
            {
                await FlushAsync(batch).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                // FlushAsync settles every write itself; this only keeps the loop alive whatever happens.
                Fail(batch, exception);
            }

            batch.Clear();
        }
    }

    /// <summary>The first write waits at most the window from when it was queued (not from now: it may have waited
    /// through the previous batch's commit already).</summary>
    private async Task WaitForCompanyAsync(ChannelReader<PendingWrite> reader)
    {
        if (_options.Window <= TimeSpan.Zero || _stopping.IsCancellationRequested || !reader.TryPeek(out var first)
            || (reader.CanCount && reader.Count >= _options.MaxBatchSize))
        {
            return;
        }

        var left = _options.Window - _options.Time.GetElapsedTime(first.Queued);
        if (left <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            await Task.Delay(left, _options.Time, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping: send what there is.
        }
    }

    private async Task FlushAsync(List<PendingWrite> batch)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _written, batch.Count);
        int?[] results;
        try
        {
            results = await CommitAsync(batch).ConfigureAwait(false);
        }
        catch (PostgresException refused) when (batch.Count > 1)
        {
            // The server refused a statement or the commit: the transaction was rolled back, none of it is stored.
            _logger.WriteBatchRefused(refused, batch.Count, refused.SqlState);
            foreach (var write in batch)
            {
                await RetryAloneAsync(write).ConfigureAwait(false);
            }

            return;
        }
        catch (Exception exception)
        {
            _logger.WriteBatchFailed(exception, batch.Count);
            Fail(batch, exception);
            return;
        }

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Done.TrySetResult(results[i]);
        }
    }

    private async Task RetryAloneAsync(PendingWrite write)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Increment(ref _written);
        try
        {
            var result = await CommitAsync([write]).ConfigureAwait(false);
            write.Done.TrySetResult(result[0]);
        }
        catch (Exception exception)
        {
            write.Done.TrySetException(exception);
        }
    }

    /// <summary>One transaction, one round trip for the statements and one for the commit; results in batch order.</summary>
    private async Task<int?[]> CommitAsync(IReadOnlyList<PendingWrite> batch)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
        await using var command = new NpgsqlBatch(connection, transaction);
        foreach (var write in batch)
        {
            var statement = new NpgsqlBatchCommand(write.Sql);
            write.Bind(statement.Parameters);
            command.BatchCommands.Add(statement);
        }

        var results = new int?[batch.Count];
        await using (var reader = await command.ExecuteReaderAsync().ConfigureAwait(false))
        {
            var i = 0;
            do
            {
                if (i < results.Length && await reader.ReadAsync().ConfigureAwait(false) && !await reader.IsDBNullAsync(0).ConfigureAwait(false))
                {
                    results[i] = reader.GetInt32(0);
                }

                i++;
            }
            while (await reader.NextResultAsync().ConfigureAwait(false));
        }

        // Only now is any of it durable: the tasks complete after this.
        await transaction.CommitAsync().ConfigureAwait(false);
        return results;
    }

    private static void Fail(List<PendingWrite> batch, Exception exception)
    {
        foreach (var write in batch)
        {
            write.Done.TrySetException(exception);
        }
    }

    private sealed class PendingWrite(string sql, Action<NpgsqlParameterCollection> bind, long queued)
    {
        public string Sql { get; } = sql;

        public Action<NpgsqlParameterCollection> Bind { get; } = bind;

        public long Queued { get; } = queued;

        public TaskCompletionSource<int?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>
/// One <see cref="PostgresWriteBatcher"/> per database for the whole silo, so that the writes of session grains and of
/// the other routing grains made in the same few milliseconds share a transaction.
/// </summary>
internal sealed class PostgresWriteBatchers(PostgresGroupCommitOptions options, ILoggerFactory loggers)
    : PerDatabase<PostgresWriteBatcher>(connectionString => new PostgresWriteBatcher(connectionString, options, loggers.CreateLogger<PostgresWriteBatcher>()));

/// <summary>One <typeparamref name="T"/> per connection string for the whole silo, made at its first use and disposed
/// with the silo.</summary>
internal abstract class PerDatabase<T>(Func<string, T> create) : IAsyncDisposable
    where T : IAsyncDisposable
{
    private readonly Dictionary<string, T> _each = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public T For(string connectionString)
    {
        lock (_gate)
        {
            if (!_each.TryGetValue(connectionString, out var one))
            {
                one = create(connectionString);
                _each.Add(connectionString, one);
            }

            return one;
        }
    }

    public async ValueTask DisposeAsync()
    {
        T[] all;
        lock (_gate)
        {
            all = [.. _each.Values];
            _each.Clear();
        }

        foreach (var one in all)
        {
            await one.DisposeAsync().ConfigureAwait(false);
        }
    }
}
