using Orleans.Runtime;
using RoutingCluster.Persistence.Tests.Infrastructure;

namespace RoutingCluster.Persistence.Tests.Grains;

/// <summary>A small durable grain: a total, the notes that made it, and a reminder-tick counter.</summary>
public interface ICounterGrain : IGrainWithStringKey
{
    /// <summary>Adds to the total and writes the state.</summary>
    Task<CounterView> AddAsync(int amount, string note);

    Task<CounterView> GetAsync();

    Task RegisterReminderAsync(string name, TimeSpan dueTime, TimeSpan period);

    Task UnregisterReminderAsync(string name);

    /// <summary>Reminder ticks this activation has received (in memory: a new activation starts at 0).</summary>
    Task<int> GetTicksAsync();
}

[GenerateSerializer, Immutable, Alias("routing.tests.counter-view")]
public sealed record CounterView(
    [property: Id(0)] int Total,
    [property: Id(1)] string[] Notes,
    [property: Id(2)] string? ETag,
    [property: Id(3)] bool RecordExists);

[GenerateSerializer, Alias("routing.tests.counter-state")]
public sealed class CounterState
{
    [Id(0)] public int Total { get; set; }

    [Id(1)] public List<string> Notes { get; set; } = [];
}

public sealed class CounterGrain(
    [PersistentState(CounterGrain.StateName, SiloSettings.StorageName)] IPersistentState<CounterState> state)
    : Grain, ICounterGrain, IRemindable
{
    public const string StateName = "counter";

    private int ticks;

    public async Task<CounterView> AddAsync(int amount, string note)
    {
        state.State.Total += amount;
        state.State.Notes.Add(note);
        await state.WriteStateAsync();
        return View();
    }

    public Task<CounterView> GetAsync() => Task.FromResult(View());

    public async Task RegisterReminderAsync(string name, TimeSpan dueTime, TimeSpan period) =>
        await this.RegisterOrUpdateReminder(name, dueTime, period);

    public async Task UnregisterReminderAsync(string name)
    {
        if (await this.GetReminder(name) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public Task<int> GetTicksAsync() => Task.FromResult(ticks);

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        ticks++;
        return Task.CompletedTask;
    }

    private CounterView View() => new(state.State.Total, [.. state.State.Notes], state.Etag, state.RecordExists);
}
