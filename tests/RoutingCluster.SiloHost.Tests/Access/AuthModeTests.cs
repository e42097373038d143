using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using RoutingCluster.SiloHost.Access;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Access;

/// <summary><c>Auth:Mode</c>: dev mode listens on loopback only; jwt mode validates the provider's RS256 tokens
/// offline against configured keys and refuses everything else.</summary>
public sealed class AuthModeTests
{
    [Theory]
    [InlineData("http://0.0.0.0:5000")]
    [InlineData("http://+:8080")]
    [InlineData("http://10.1.2.3:5000")]
    public void DevMode_OnANonLoopbackAddress_RefusesToStart_AndSaysWhy(string url)
    {
        using var factory = SiloHostFactory.Create(new SiloHostOptions { Settings = new Dictionary<string, string> { ["urls"] = url } });

        var error = Record.Exception(() => factory.CreateClient());

        Assert.NotNull(error);
        var message = error.GetBaseException().Message;
        Assert.Contains("loopback", message, StringComparison.Ordinal);
        Assert.Contains(url, message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000", true)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("http://[::1]:5000", true)]
    [InlineData("http://*:5000", false)]
    [InlineData("http://example.org:5000", false)]
    public void IsLoopback_TellsLoopbackUrls(string url, bool loopback) => Assert.Equal(loopback, RoutingAccess.IsLoopback(url));

    [Fact]
    public async Task JwtMode_AcceptsTheProvidersRs256Token_AndRefusesOthers_EvenADevToken()
    {
        using var provider = RSA.Create(2048);
        await using var host = SiloHostFactory.Create(new SiloHostOptions
        {
            Settings = new Dictionary<string, string>
            {
                ["Auth:Mode"] = "jwt",
                ["Auth:Jwt:Issuer"] = "https://idp.test",
                ["Auth:Jwt:Audience"] = "routing",
                ["Auth:Jwt:SigningKeys:0"] = provider.ExportSubjectPublicKeyInfoPem(),
            },
        });
        var http = host.CreateAnonymousClient();
        string Token(RSA key, string audience) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://idp.test",
            Audience = audience,
            Expires = DateTime.UtcNow.AddMinutes(10),
            Claims = new Dictionary<string, object> { ["sub"] = "analyst-1", ["roles"] = new[] { Roles.Analyst } },
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key), SecurityAlgorithms.RsaSha256),
        });
        using var stranger = RSA.Create(2048);

        Assert.Equal(HttpStatusCode.OK, await Get(http, Token(provider, "routing")));
        Assert.Equal(HttpStatusCode.Unauthorized, await Get(http, Token(provider, "another-audience")));
        Assert.Equal(HttpStatusCode.Unauthorized, await Get(http, Token(stranger, "routing")));
        Assert.Equal(HttpStatusCode.Unauthorized, await Get(http, TestTokens.For("analyst-1", [Roles.Analyst])));
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync(DevTokenApi.Path, null)).StatusCode);
    }

    [Fact]
    public void JwtMode_WithoutAudience_RefusesToStart()
    {
        using var factory = SiloHostFactory.Create(new SiloHostOptions
        {
            Settings = new Dictionary<string, string> { ["Auth:Mode"] = "jwt", ["Auth:Jwt:Authority"] = "https://idp.test" },
        });

        var error = Record.Exception(() => factory.CreateClient());

        Assert.Contains("Auth:Jwt:Audience", error?.GetBaseException().Message, StringComparison.Ordinal);
    }

    private static async Task<HttpStatusCode> Get(HttpClient http, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/stats");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
