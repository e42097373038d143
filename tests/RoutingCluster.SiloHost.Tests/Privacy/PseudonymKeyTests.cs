using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RoutingCluster.Grains.Privacy;
using RoutingCluster.SiloHost.Access;
using RoutingCluster.SiloHost.Api.Contracts;
using RoutingCluster.SiloHost.Api.Json;
using RoutingCluster.SiloHost.Privacy;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.SiloHost.Tests.Privacy;

/// <summary><c>Privacy:PseudonymKey</c>: required in jwt mode, random per process (with a warning) when unset in dev
/// mode; the host's pseudonyms and create fingerprints are keyed with it.</summary>
public sealed class PseudonymKeyTests
{
    private static readonly CustomerPseudonyms Pseudonyms = new(Convert.FromBase64String(TestTokens.PseudonymKey));
    private static readonly CustomerPseudonyms Others = new(new byte[32]);

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

    [Fact]
    public void CreateRequest_GoesToTheGrainWithThePseudonym_NeverTheCustomerId()
    {
        var session = Read("""{ "queueId": "cards", "channel": "voice", "customer": { "id": "CUST-8613912345678", "age": 72 } }""")
            .ToNewSession(Pseudonyms);

        Assert.Equal(Pseudonyms.OfCustomer("CUST-8613912345678"), session.Customer.Pseudonym);
        Assert.Equal(72, session.Customer.Age);
        Assert.DoesNotContain("8613912345678", session.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Age =", session.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Fingerprint_IsKeyed_AndTheSameForTheSameRequestInAnyOrder()
    {
        var request = Read("""
            { "queueId": "cards", "channel": "voice", "customer": { "id": "CUST-8613912345678", "age": 72, "segments": [ "vip", "elderly" ] },
              "skills": { "cards": 2, "mandarin": 1 }, "attributes": { "ivr": "loss", "lang": "zh" } }
            """);
        var reordered = Read("""
            { "attributes": { "lang": "zh", "ivr": "loss" }, "skills": { "mandarin": 1, "cards": 2 },
              "customer": { "segments": [ "elderly", "vip", "vip" ], "age": 72, "id": "CUST-8613912345678" }, "channel": "voice", "queueId": "cards" }
            """);
        var anotherCustomer = Read("""
            { "queueId": "cards", "channel": "voice", "customer": { "id": "CUST-8613912345679", "age": 72, "segments": [ "vip", "elderly" ] },
              "skills": { "cards": 2, "mandarin": 1 }, "attributes": { "ivr": "loss", "lang": "zh" } }
            """);

        Assert.Equal(request.Fingerprint(Pseudonyms), reordered.Fingerprint(Pseudonyms));
        Assert.NotEqual(request.Fingerprint(Pseudonyms), request.Fingerprint(Others));
        Assert.NotEqual(request.Fingerprint(Pseudonyms), anotherCustomer.Fingerprint(Pseudonyms));
    }

    [Fact]
    public async Task Retry_WithTheSameKeyAndBody_FindsTheSession_AnotherBodyIsRefused()
    {
        await using var host = SiloHostFactory.Create(new SiloHostOptions());
        var api = new HostApi(host.CreateClient());
        var queue = await api.PutQueue(HostApi.NewId("fp"));
        var body = $$"""{ "queueId": "{{queue}}", "channel": "voice", "customer": { "id": "c-fp", "age": 40 } }""";

        var created = await api.Post("/v1/sessions", body, "fp-1");
        var retried = await api.Post("/v1/sessions", body, "fp-1");
        var reused = await api.Post("/v1/sessions", body.Replace("40", "41", StringComparison.Ordinal), "fp-1");

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal(HttpStatusCode.OK, retried.Status);
        Assert.Equal(created.Json!.Str("id"), retried.Json!.Str("id"));
        reused.Problem(HttpStatusCode.Conflict);
    }

    private static CreateSessionRequest Read(string json) => JsonSerializer.Deserialize<CreateSessionRequest>(json, WireJson.Requests)!;
}
