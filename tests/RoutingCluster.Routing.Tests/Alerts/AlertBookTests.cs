using RoutingCluster.Routing.Alerts;

namespace RoutingCluster.Routing.Tests.Alerts;

public class AlertBookTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
    private static readonly AlertBounds Bounds = new() { LongestWaitSeconds = 60, ElderlyLongestWaitSeconds = 30, ServiceLevelBelow = 0.8, WaitingAbove = 5 };
    private static readonly AlertFigures Calm = new(Waiting: 1, LongestWaitSeconds: 5, ElderlyLongestWaitSeconds: 0, ServiceLevel: 0.95);

    private readonly AlertBook _book = new();

    private IReadOnlyList<AlertChange> CheckAt(double seconds, AlertFigures figures, AlertBounds? bounds = null) =>
        _book.Check([("cards", bounds ?? Bounds, figures)], T0.AddSeconds(seconds));

    [Fact]
    public void Check_WithinBounds_RaisesNothing()
    {
        Assert.Empty(CheckAt(0, Calm));
        Assert.Empty(_book.Active);
    }

    [Theory]
    [InlineData(AlertKind.LongestWait, 61)]
    [InlineData(AlertKind.ElderlyLongestWait, 31)]
    [InlineData(AlertKind.ServiceLevel, 0.79)]
    [InlineData(AlertKind.Waiting, 6)]
    public void Check_OutOfBound_RaisesAtOnceAndClearsTenSecondsAfterItLastHeld(AlertKind kind, double value)
    {
        var over = kind switch
        {
            AlertKind.LongestWait => Calm with { LongestWaitSeconds = value },
            AlertKind.ElderlyLongestWait => Calm with { ElderlyLongestWaitSeconds = value },
            AlertKind.ServiceLevel => Calm with { ServiceLevel = value },
            _ => Calm with { Waiting = (int)value },
        };

        var raised = Assert.Single(CheckAt(0, over));
        Assert.True(raised.Raised);
        Assert.Equal(new ActiveAlert("cards", kind, value, Bounds.Of(kind)!.Value, T0), raised.Alert);

        Assert.Empty(CheckAt(1, over));
        Assert.Empty(CheckAt(2, Calm));
        Assert.Empty(CheckAt(10.9, Calm));
        Assert.Equal(T0, Assert.Single(_book.Active).Since);

        var cleared = Assert.Single(CheckAt(11, Calm));
        Assert.False(cleared.Raised);
        Assert.Equal(kind, cleared.Alert.Kind);
        Assert.Empty(_book.Active);
    }

    [Fact]
    public void Check_ConditionBackBeforeTenSeconds_KeepsTheAlertAndItsSince()
    {
        var over = Calm with { Waiting = 9 };
        CheckAt(0, over);
        CheckAt(1, Calm);
        Assert.Empty(CheckAt(9, over));
        Assert.Empty(CheckAt(18, Calm));

        var alert = Assert.Single(_book.Active);
        Assert.Equal(T0, alert.Since);
        Assert.Equal(Calm.Waiting, alert.Value); // the latest figure, back within the bound
        Assert.Single(CheckAt(19, Calm));
    }

    [Fact]
    public void Check_ExactlyAtTheBound_DoesNotRaise()
    {
        Assert.Empty(CheckAt(0, new AlertFigures(5, 60, 30, 0.8)));
    }

    [Fact]
    public void Check_NoServiceLevelYet_DoesNotRaiseServiceLevel()
    {
        Assert.Empty(CheckAt(0, Calm with { ServiceLevel = null }));
    }

    [Fact]
    public void Check_ValueFollowsTheFiguresWhileActive()
    {
        CheckAt(0, Calm with { LongestWaitSeconds = 70 });
        CheckAt(1, Calm with { LongestWaitSeconds = 95 });

        Assert.Equal(95, Assert.Single(_book.Active).Value);
    }

    [Fact]
    public void Check_BoundRemovedOrQueueGone_ClearsAtOnce()
    {
        CheckAt(0, Calm with { Waiting = 9, LongestWaitSeconds = 70 });
        Assert.Equal(2, _book.Active.Count);

        var cleared = Assert.Single(CheckAt(1, Calm with { Waiting = 9, LongestWaitSeconds = 70 }, Bounds with { WaitingAbove = null }));
        Assert.Equal(AlertKind.Waiting, cleared.Alert.Kind);
        Assert.False(cleared.Raised);

        var gone = Assert.Single(_book.Check([], T0.AddSeconds(2)));
        Assert.Equal(AlertKind.LongestWait, gone.Alert.Kind);
        Assert.Empty(_book.Active);
    }

    [Fact]
    public void Active_IsOrderedByQueueThenKind()
    {
        var over = new AlertFigures(9, 70, 40, 0.5);
        _book.Check([("loans", Bounds, over), ("cards", Bounds, over)], T0);

        Assert.Equal(
            [("cards", AlertKind.LongestWait), ("cards", AlertKind.ElderlyLongestWait), ("cards", AlertKind.ServiceLevel), ("cards", AlertKind.Waiting),
             ("loans", AlertKind.LongestWait), ("loans", AlertKind.ElderlyLongestWait), ("loans", AlertKind.ServiceLevel), ("loans", AlertKind.Waiting)],
            _book.Active.Select(a => (a.QueueId, a.Kind)));
    }
}
