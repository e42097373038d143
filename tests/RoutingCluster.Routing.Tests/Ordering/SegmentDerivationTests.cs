using RoutingCluster.Routing.Model;
using RoutingCluster.Routing.Ordering;
using static RoutingCluster.Routing.Tests.Build;

namespace RoutingCluster.Routing.Tests.Ordering;

/// <summary>Spec, "Segments": elderly is set by the gateway, or derived from age &gt;= the queue's elderly age (default 65).</summary>
public sealed class SegmentDerivationTests
{
    [Theory]
    [InlineData(64, false)]
    [InlineData(65, true)]
    [InlineData(66, true)]
    [InlineData(97, true)]
    [InlineData(30, false)]
    public void Segments_AgeAtOrAboveDefaultElderlyAge_DerivesElderly(int age, bool elderly)
    {
        var segments = PriorityPolicy.DeriveSegments([], age, QueuePolicy.Default.ElderlyAge);

        Assert.Equal(65, QueuePolicy.Default.ElderlyAge);
        Assert.Equal(elderly, segments.Contains(Segment.Elderly));
    }

    [Theory]
    [InlineData(69, false)]
    [InlineData(70, true)]
    public void Segments_QueueWithOwnElderlyAge_UsesIt(int age, bool elderly)
    {
        Assert.Equal(elderly, PriorityPolicy.DeriveSegments([], age, elderlyAge: 70).Contains(Segment.Elderly));
    }

    [Fact]
    public void Segments_NoAge_DerivesNothing()
    {
        Assert.Empty(PriorityPolicy.DeriveSegments([], age: null, elderlyAge: 65));
    }

    [Fact]
    public void Segments_DeclaredByGateway_AreKeptWhateverTheAge()
    {
        var segments = PriorityPolicy.DeriveSegments([Segment.Elderly, Segment.Vip], age: 40, elderlyAge: 65);

        Assert.Equal([Segment.Elderly, Segment.Vip], segments);
    }

    [Fact]
    public void Segments_DeclaredElderlyAndOldEnough_AppearOnce()
    {
        var segments = PriorityPolicy.DeriveSegments([Segment.Elderly, Segment.Disabled], age: 80, elderlyAge: 65);

        Assert.Equal([Segment.Elderly, Segment.Disabled], segments);
    }

    [Fact]
    public void Ordering_CustomerAged65WithoutDeclaredSegment_GetsElderlyHeadStart()
    {
        var policy = QueuePolicy.Default;
        var ordinary = Customer("ordinary", At(0), policy, age: 64);
        var elderlyByAge = Customer("aged-65", At(30), policy, age: 65);

        Assert.Equal(HeadStart.None, ordinary.HeadStart);
        Assert.Equal(HeadStart.OfSeconds(60), elderlyByAge.HeadStart);
        Assert.True(elderlyByAge.Key.IsAheadOf(ordinary.Key));
    }
}
