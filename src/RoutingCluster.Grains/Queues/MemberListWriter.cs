using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RoutingCluster.Grains.Infrastructure;

namespace RoutingCluster.Grains.Queues;

/// <summary>
/// Keeps a queue's stored record (members and configuration) up to date beside the queue's turns. Membership is
/// persisted so that a reactivated queue knows whom to ask for their availability. A join or leave is not written in
/// the turn that makes it: it marks the record changed and one write runs beside the turns, covering every change made
/// before it starts (joins of 10,000 agents would otherwise write the whole member list 10,000 times, and route
/// nothing while each write is in flight). Callers learn whether the stored record agrees with an agent yet; an agent
/// that hears it does not publishes again a little later, which also recovers a join lost in a crash before its write.
/// </summary>
internal sealed class MemberListWriter(
    IPersistentState<QueueRecord> state,
    WorkTracker tracker,
    ILogger logger,
    string queueId,
    Action onWriteFailed)
{
    /// <summary>After each write the writer waits this many times as long as the write took before it starts the next one
    /// (at most <see cref="MaxWritePause"/>): while agents keep joining, writing the member list takes at most about a
    /// fifth of the time, and the joins in between share one write. (Without a pause, joins arriving one at a time would
    /// each find the last write finished and start their own: a write of the whole list per join.)</summary>
    private const int WritePauseFactor = 4;

    private static readonly TimeSpan MaxWritePause = TimeSpan.FromSeconds(1);

    /// <summary>The agents that serve the queue, as this activation knows them.</summary>
    private HashSet<string> _members = new(state.State.Agents, StringComparer.Ordinal);

    /// <summary>The members in the record as last read or written.</summary>
    private IReadOnlySet<string> _stored = state.State.Agents;

    /// <summary>Changes made (membership or configuration), and how many of them the stored record holds.</summary>
    private long _changes;
    private long _written;

    /// <summary>The write in flight, if any: one at a time, each writing the record as it is when it starts.</summary>
    private Task? _writer;

    /// <summary>A write failed: what is stored is unknown, so this activation writes nothing more and goes.</summary>
    private Exception? _writeFailure;

    /// <summary>The next write does not start before this (a <see cref="Stopwatch"/> timestamp).</summary>
    private long _nextWriteNotBefore;

    public int MemberCount => _members.Count;

    public bool Writing => _writer is not null;

    /// <summary>The agent serves the queue (or, with <paramref name="serves"/> false, does not). Returns whether the
    /// stored record already agrees.</summary>
    public bool Note(string agentId, bool serves)
    {
        if (serves ? _members.Add(agentId) : _members.Remove(agentId))
        {
            _changes++;
            StartWriter();
        }

        return _stored.Contains(agentId) == serves;
    }

    /// <summary>Changes the record's configuration through <paramref name="change"/> while no write is in flight (so a
    /// write never sees it half-changed), and completes when the change is stored.</summary>
    public async Task ChangeAsync(Action<QueueRecord> change)
    {
        while (_writer is { } writer)
        {
            await writer;
        }

        change(state.State);
        await StoredAsync(++_changes);
    }

    /// <summary>Writes what is not written yet (on deactivation), unless a write failed: then nothing here is trusted.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_writeFailure is null && (_writer is not null || _written < _changes))
        {
            try
            {
                await StoredAsync(_changes).WaitAsync(cancellationToken);
            }
            catch (Exception ex)
            {
                logger.BackgroundWorkFailed(ex, queueId);
            }
        }
    }

    /// <summary>Starts the writer unless one is running (it goes on while changes are not written) or a write failed.</summary>
    private void StartWriter()
    {
        if (_writer is not null || _writeFailure is not null || _written >= _changes)
        {
            return;
        }

        tracker.Track(() =>
        {
            var writing = WriteAsync();
            if (!writing.IsCompleted)
            {
                _writer = writing;
            }

            return writing;
        }, ex => logger.BackgroundWorkFailed(ex, queueId), $"membership {queueId}");
    }

    /// <summary>Writes the record until it holds every change made so far. Each write takes a copy of the members (turns
    /// go on changing the live set meanwhile). A failed write leaves the stored record unknown, as an awaited one would
    /// (<c>InconsistentStateException</c> in the PostgreSQL storage): the activation writes nothing more and goes, and
    /// the next one reads what is stored.</summary>
    private async Task WriteAsync()
    {
        try
        {
            while (_written < _changes)
            {
                // Real time, not the routing clock: this paces work, it decides nothing about routing.
                var pause = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _nextWriteNotBefore);
                if (pause > TimeSpan.Zero)
                {
                    await Task.Delay(pause);
                    continue;
                }

                var covering = _changes;
                var members = new HashSet<string>(_members, StringComparer.Ordinal);
                state.State.Agents = members;
                var started = Stopwatch.GetTimestamp();
                await state.WriteStateAsync();
                var took = Stopwatch.GetElapsedTime(started);
                var wait = took * WritePauseFactor < MaxWritePause ? took * WritePauseFactor : MaxWritePause;
                _nextWriteNotBefore = Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency);
                _stored = members;
                _written = covering;
            }
        }
        catch (Exception ex)
        {
            _writeFailure = ex;
            QueueLog.RecordWriteFailed(logger, ex, queueId);
            onWriteFailed();
        }
        finally
        {
            _writer = null;
        }
    }

    /// <summary>Completes when the stored record holds change number <paramref name="change"/>; throws when a write failed.</summary>
    private async Task StoredAsync(long change)
    {
        while (_written < change)
        {
            if (_writeFailure is { } failure)
            {
                throw new Orleans.Storage.InconsistentStateException($"Queue {queueId} could not write its record; it is reset and reads it again.", failure);
            }

            StartWriter();
            if (_writer is { } writer)
            {
                await writer;
            }
        }
    }
}

internal static partial class QueueLog
{
    [LoggerMessage(EventId = LogEventIds.QueueRecordWriteFailed, Level = LogLevel.Warning, Message = "Queue {QueueId} could not write its record (members, configuration); the activation is reset and the next one reads what is stored")]
    public static partial void RecordWriteFailed(ILogger logger, Exception exception, string queueId);
}
