using System.Text.Json;
using RoutingCluster.Abstractions.Agents;
using RoutingCluster.Routing.Model;
using RoutingCluster.SiloHost.Api.Json;

namespace RoutingCluster.SiloHost.Tests.Api;

/// <summary>Enum and head start values on the wire, as the contract spells them.</summary>
public sealed class WireFormatTests
{
    private static readonly JsonSerializerOptions Options = CreateOptions();

    [Theory]
    [InlineData(AgentState.LoggedOut, "logged-out")]
    [InlineData(AgentState.NotReady, "not-ready")]
    [InlineData(SessionState.WrapUp, "wrap-up")]
    [InlineData(HeldState.WrapUp, "wrap-up")]
    [InlineData(AgentSelection.LongestIdle, "longest-idle")]
    [InlineData(AgentSelection.MostSkilled, "most-skilled")]
    [InlineData(Channel.FiveG, "5g")]
    [InlineData(Channel.Wechat, "wechat")]
    [InlineData(Segment.Elderly, "elderly")]
    public void Enum_RoundTripsThroughItsWireName(object value, string wire)
    {
        var type = value.GetType();

        var json = JsonSerializer.Serialize(value, type, Options);
        var back = JsonSerializer.Deserialize($"\"{wire}\"", type, WireJson.Requests);

        Assert.Equal($"\"{wire}\"", json);
        Assert.Equal(value, back);
    }

    [Fact]
    public void Channel_AsDictionaryKey_UsesTheWireName()
    {
        var capacity = new Dictionary<Channel, int> { [Channel.FiveG] = 2 };

        var json = JsonSerializer.Serialize(capacity, Options);

        Assert.Equal("""{"5g":2}""", json);
        Assert.Equal(capacity, JsonSerializer.Deserialize<Dictionary<Channel, int>>(json, WireJson.Requests));
    }

    [Theory]
    [InlineData("\"FiveG\"")]
    [InlineData("\"5G\"")]
    [InlineData("8")]
    public void Channel_OtherSpellingsAndNumbers_AreRefused(string json)
    {
        var error = Assert.Throws<WireValueException>(() => JsonSerializer.Deserialize<Channel>(json, WireJson.Requests));

        Assert.Contains("5g", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HeadStart_IsSecondsOrStrict()
    {
        Assert.Equal("60", JsonSerializer.Serialize(HeadStart.OfSeconds(60), Options));
        Assert.Equal("\"strict\"", JsonSerializer.Serialize(HeadStart.Strict, Options));
        Assert.Equal(HeadStart.Strict, JsonSerializer.Deserialize<HeadStart>("\"strict\"", WireJson.Requests));
        Assert.Equal(HeadStart.OfSeconds(12.5), JsonSerializer.Deserialize<HeadStart>("12.5", WireJson.Requests));
        Assert.Throws<WireValueException>(() => JsonSerializer.Deserialize<HeadStart>("\"soon\"", WireJson.Requests));
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        WireJson.Configure(options);
        return options;
    }
}
