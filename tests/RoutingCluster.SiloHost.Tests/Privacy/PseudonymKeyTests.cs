using Microsoft.Extensions.DependencyInjection;
using RoutingCluster.Grains.Privacy;
using RoutingCluster.SiloHost.Access;
using RoutingCluster.SiloHost.Privacy;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Privacy;

/// <summary><c>Privacy:PseudonymKey</c>: required in jwt mode, random per process (with a warning) when unset in dev
/// mode; the host's pseudonyms are keyed with it.</summary>
public sealed class PseudonymKeyTests
{
    private static readonly CustomerPseudonyms Pseudonyms = new(Convert.FromBase64String(TestTokens.PseudonymKey));

    [Fact]
    public void Unset_InDevMode_IsARandomKeyOfThisProcess_TheSameForEveryHostInIt()
    {
        var first = RoutingPrivacy.KeyFrom(null, AuthModes.Dev, out var generated);

        Assert.True(generated);
        Assert.Equal(CustomerPseudonyms.MinimumKeyBytes, first.Length);
        Assert.Equal(first, RoutingPrivacy.KeyFrom(" ", AuthModes.Dev, out _));
    }

    [Fact]
    public void Unset_InJwtMode_IsRefused_SayingWhichSettingToSet()
    {
        var error = Assert.Throws<InvalidOperationException>(() => RoutingPrivacy.KeyFrom(null, AuthModes.Jwt, out _));

        Assert.Contains("Privacy:PseudonymKey", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("c2hvcnQ=")]   // 5 bytes
    public void Set_ButNotBase64OfAtLeast32Bytes_IsRefused(string configured)
    {
        var error = Assert.Throws<InvalidOperationException>(() => RoutingPrivacy.KeyFrom(configured, AuthModes.Dev, out _));

        Assert.Contains("Privacy:PseudonymKey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void JwtMode_WithoutPseudonymKey_RefusesToStart()
    {
        using var factory = SiloHostFactory.Create(new SiloHostOptions
        {
            Settings = new Dictionary<string, string>
            {
                ["Auth:Mode"] = "jwt",
                ["Auth:Jwt:Authority"] = "https://idp.test",
                ["Auth:Jwt:Audience"] = "routing",
                ["Privacy:PseudonymKey"] = "",
            },
        });

        var error = Record.Exception(() => factory.CreateClient());

        Assert.Contains("Privacy:PseudonymKey", error?.GetBaseException().Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_UsesTheConfiguredKey_AsTheService()
    {
        await using var host = SiloHostFactory.Create(new SiloHostOptions());
        _ = host.CreateClient();

        Assert.Equal(Pseudonyms.OfCustomer("c-9"), host.Services.GetRequiredService<CustomerPseudonyms>().OfCustomer("c-9"));
    }
}
