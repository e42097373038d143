using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;

namespace RoutingCluster.Client.Tests.Desktop;

/// <summary>The order in which <see cref="SiloFailoverConnectionFactory"/> tries the silos, over a fake inner
/// connection factory (no network).</summary>
public sealed class SiloFailoverTests
{
    private static readonly Uri X = new("http://10.0.0.11:5000/hubs/agent");
    private static readonly Uri Y = new("http://10.0.0.12:5000/hubs/agent");
    private static readonly Uri Z = new("http://10.0.0.13:5000/hubs/agent");
    private static readonly EndPoint Ignored = new UriEndPoint(new Uri("http://unused.invalid/hubs/agent"));

    [Fact]
    public async Task FirstConnect_TriesTheSilosInTheOrderGiven_UntilOneAccepts()
    {
        var silos = new FakeSilos { Down = { X } };
        var factory = Factory(silos);

        await factory.ConnectAsync(Ignored);

        Assert.Equal([X, Y], silos.Tried);
        Assert.Equal((X, Y), factory.Confirm());
    }

    [Fact]
    public async Task Reconnect_StartsWithTheSiloThatLastWorked_ThenTheNextOnes_WrappingAround()
    {
        var silos = new FakeSilos();
        var factory = Factory(silos);
        await factory.ConnectAsync(Ignored);
        Assert.Equal((X, X), factory.Confirm());

        silos.Down.Add(X);
        await factory.ConnectAsync(Ignored);
        Assert.Equal((X, Y), factory.Confirm());

        silos.Down.Clear();
        await factory.ConnectAsync(Ignored);
        Assert.Equal((Y, Y), factory.Confirm());

        silos.Down.UnionWith([Y, Z]);
        await factory.ConnectAsync(Ignored);
        Assert.Equal((Y, X), factory.Confirm());

        Assert.Equal([X, X, Y, Y, Y, Z, X], silos.Tried);
    }

    [Fact]
    public async Task EverySiloDown_TriesEachOnce_ThrowsTheLastFailure_AndNextTimeStartsAgainWithTheOneThatLastWorked()
    {
        var silos = new FakeSilos { Down = { X } };
        var factory = Factory(silos);
        await factory.ConnectAsync(Ignored);
        factory.Confirm();
        silos.Tried.Clear();
        silos.Down.UnionWith([Y, Z]);

        var error = await Assert.ThrowsAsync<HttpRequestException>(async () => await factory.ConnectAsync(Ignored));

        Assert.Equal([Y, Z, X], silos.Tried);
        Assert.Contains(X.Authority, error.Message, StringComparison.Ordinal);
        Assert.Equal(Y, factory.Preferred);

        silos.Tried.Clear();
        silos.Down.Remove(Z);
        await factory.ConnectAsync(Ignored);
        Assert.Equal([Y, Z], silos.Tried);
        Assert.Equal((Y, Z), factory.Confirm());
    }

    [Fact]
    public async Task AConnectionNeverConfirmed_ItsHandshakeFailed_NextConnectStartsWithTheFollowingSilo()
    {
        var silos = new FakeSilos();
        var factory = Factory(silos);
        await factory.ConnectAsync(Ignored);
        factory.Confirm();
        await factory.ConnectAsync(Ignored); // X again, but the hub connection never confirms it

        await factory.ConnectAsync(Ignored);

        Assert.Equal([X, X, Y], silos.Tried);
        Assert.Equal((X, Y), factory.Confirm());
    }

    [Fact]
    public async Task ASiloThatDoesNotAnswer_IsPassedOverAfterTheAttemptTimeout()
    {
        var silos = new FakeSilos { Hanging = { X } };
        var factory = Factory(silos, attemptTimeout: TimeSpan.FromMilliseconds(100));

        await factory.ConnectAsync(Ignored).AsTask().WaitAsync(Deadline.Default);

        Assert.Equal([X, Y], silos.Tried);
        Assert.Equal((X, Y), factory.Confirm());
    }

    [Fact]
    public async Task OnlyOneSilo_ThatDoesNotAnswer_FailsWithATimeout()
    {
        var silos = new FakeSilos { Hanging = { X } };
        var factory = new SiloFailoverConnectionFactory(silos, [X], TimeSpan.FromMilliseconds(100), NullLogger.Instance);

        var error = await Assert.ThrowsAsync<TimeoutException>(() => factory.ConnectAsync(Ignored).AsTask().WaitAsync(Deadline.Default));

        Assert.Contains(X.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Null(factory.Confirm());
    }

    [Fact]
    public async Task TheCallerCancelling_StopsAtOnce_WithoutTryingTheOtherSilos()
    {
        var silos = new FakeSilos { Hanging = { X } };
        var factory = Factory(silos, attemptTimeout: Timeout.InfiniteTimeSpan);
        using var cancel = new CancellationTokenSource();

        var connecting = factory.ConnectAsync(Ignored, cancel.Token).AsTask();
        await silos.HangingStarted.Task.WaitAsync(Deadline.Default);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connecting.WaitAsync(Deadline.Default));
        Assert.Equal([X], silos.Tried);
    }

    private static SiloFailoverConnectionFactory Factory(FakeSilos silos, TimeSpan? attemptTimeout = null) =>
        new(silos, [X, Y, Z], attemptTimeout ?? TimeSpan.FromSeconds(10), NullLogger.Instance);

    /// <summary>Silos that accept, refuse (<see cref="Down"/>) or never answer (<see cref="Hanging"/>) a connection.</summary>
    private sealed class FakeSilos : IConnectionFactory
    {
        public HashSet<Uri> Down { get; } = [];

        public HashSet<Uri> Hanging { get; } = [];

        public List<Uri> Tried { get; } = [];

        public TaskCompletionSource HangingStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken = default)
        {
            var url = Assert.IsType<UriEndPoint>(endPoint).Uri;
            Tried.Add(url);
            if (Hanging.Contains(url))
            {
                HangingStarted.TrySetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            if (Down.Contains(url))
            {
                throw new HttpRequestException(HttpRequestError.ConnectionError, $"Connection refused ({url.Authority})");
            }

            return new DefaultConnectionContext();
        }
    }
}
