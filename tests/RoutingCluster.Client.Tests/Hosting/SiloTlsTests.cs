using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using RoutingCluster.SiloHost.Hosting;
using RoutingCluster.Tests.Shared;

namespace RoutingCluster.Client.Tests.Hosting;

/// <summary>
/// Mutual TLS between silos (<c>Orleans:Tls:*</c>): two silos with certificates of the cluster's authority form one
/// cluster and route through each other; the silo port refuses a handshake without a certificate or with one of
/// another authority.
/// </summary>
[Collection(TwoSiloCollection.Name)]
public sealed class SiloTlsTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("silo-tls-");
    private readonly TestAuthority _authority = TestAuthority.Create("CN=RoutingCluster test silo authority");
    private readonly TestAuthority _other = TestAuthority.Create("CN=Some other authority");

    public void Dispose()
    {
        _authority.Dispose();
        _other.Dispose();
        _directory.Delete(recursive: true);
    }

    [Fact]
    public async Task TwoSilosWithTheAuthoritysCertificates_FormOneCluster_AndRouteThroughEachOther()
    {
        await using var cluster = TwoSiloCluster.Start(SettingsFor("silo-a"), SettingsFor("silo-b", pem: true));
        Assert.Equal(2, await cluster.ActiveSilosAsync());

        // The queue lives on A, the agent on B: the agent's readiness and the offer cross between the silos.
        using var throughA = cluster.A.CreateRoutingClient();
        using var throughB = cluster.B.CreateRoutingClient();
        var queue = Ids.New("q");
        var agent = Ids.New("a");
        await throughA.PutQueueAsync(queue, new QueueSettings());
        await throughB.PutAgentAsync(agent, new AgentProfile { Queues = [queue], Skills = new Dictionary<string, int> { ["cards"] = 2 } });
        await throughB.SetAgentStateAsync(agent, AgentState.Ready);
        Assert.Equal(cluster.A.SiloPort, await cluster.SiloPortOfAsync(cluster.Grain<RoutingCluster.Abstractions.Queues.IQueueGrain>(queue)));
        Assert.Equal(cluster.B.SiloPort, await cluster.SiloPortOfAsync(cluster.Grain<RoutingCluster.Abstractions.Agents.IAgentGrain>(agent)));

        var session = await throughA.CreateSessionAsync(new CreateSessionRequest { QueueId = queue, Channel = Channel.Voice, Customer = new Customer { Id = "c-tls" }, Skills = new Dictionary<string, int> { ["cards"] = 1 } });

        var offered = await Eventually(async () => (await throughB.GetAgentAsync(agent)).Offers.Any(o => o.SessionId == session.Session.Id));
        Assert.True(offered, "the offer reached the agent on the other silo");
    }

    [Fact]
    public async Task TheSiloPort_RefusesAHandshake_WithoutACertificate_OrWithOneOfAnotherAuthority()
    {
        await using var cluster = TwoSiloCluster.Start(SettingsFor("silo-a"), SettingsFor("silo-b"));
        using var own = _authority.Issue("CN=probe");
        using var foreign = _other.Issue("CN=intruder");

        Assert.True(await HandshakeAsync(cluster.A.SiloPort, own));
        Assert.False(await HandshakeAsync(cluster.A.SiloPort, foreign));
        Assert.False(await HandshakeAsync(cluster.A.SiloPort, certificate: null));
        Assert.Equal(2, await cluster.ActiveSilosAsync());
    }

    [Fact]
    public void Settings_ThatCannotBeUsed_StopTheHost_NamingTheKey()
    {
        var noAuthority = Configuration(new() { [SiloTls.CertificatePathKey] = Write("lonely.pfx", _authority.Issue("CN=x")) });
        var missing = Configuration(new() { [SiloTls.CertificatePathKey] = Path.Combine(_directory.FullName, "absent.pfx"), [SiloTls.CaCertificatePathKey] = _authority.WritePem(_directory, "ca.pem") });

        Assert.Contains(SiloTls.CaCertificatePathKey, Assert.Throws<InvalidOperationException>(() => SiloTls.From(noAuthority)).Message, StringComparison.Ordinal);
        Assert.Contains(SiloTls.CertificatePathKey, Assert.Throws<InvalidOperationException>(() => SiloTls.From(missing)).Message, StringComparison.Ordinal);
        Assert.Null(SiloTls.From(Configuration([])));
    }

    private Dictionary<string, string> SettingsFor(string name, bool pem = false)
    {
        var certificate = _authority.Issue($"CN={name}");
        var settings = new Dictionary<string, string> { [SiloTls.CaCertificatePathKey] = _authority.WritePem(_directory, "ca.pem") };
        if (pem)
        {
            settings[SiloTls.CertificatePathKey] = Path.Combine(_directory.FullName, $"{name}.crt");
            settings[SiloTls.KeyPathKey] = Path.Combine(_directory.FullName, $"{name}.key");
            File.WriteAllText(settings[SiloTls.CertificatePathKey], certificate.ExportCertificatePem());
            File.WriteAllText(settings[SiloTls.KeyPathKey], certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        }
        else
        {
            settings[SiloTls.CertificatePathKey] = Write($"{name}.pfx", certificate, "pfx-secret");
            settings[SiloTls.CertificatePasswordKey] = "pfx-secret";
        }

        return settings;
    }

    private string Write(string file, X509Certificate2 certificate, string? password = null)
    {
        var path = Path.Combine(_directory.FullName, file);
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, password));
        return path;
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    /// <summary>Whether a TLS handshake with the silo port succeeds when this end presents <paramref name="certificate"/>
    /// (the silo's certificate itself is accepted whatever it is: what is tested is whether the silo accepts this end).</summary>
    private static async Task<bool> HandshakeAsync(int port, X509Certificate2? certificate)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = SiloTls.TargetHost,
                ClientCertificates = certificate is null ? null : [certificate],
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            });

            // With TLS 1.3 the server checks the client's certificate after the client considers the handshake done:
            // a refusal shows as the connection closing on the first read.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            var buffer = new byte[1];
            try
            {
                var read = await tls.ReadAsync(buffer, timeout.Token);
                return read > 0;
            }
            catch (OperationCanceledException)
            {
                return true; // still open: the silo waits for this end to speak
            }
        }
        catch (Exception exception) when (exception is AuthenticationException or IOException)
        {
            return false;
        }
    }

    private static async Task<bool> Eventually(Func<Task<bool>> condition)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    /// <summary>A certificate authority made for one test: issues certificates for server and client authentication.</summary>
    private sealed class TestAuthority : IDisposable
    {
        private readonly RSA _key;

        private TestAuthority(RSA key, X509Certificate2 certificate)
        {
            _key = key;
            Certificate = certificate;
        }

        public X509Certificate2 Certificate { get; }

        public static TestAuthority Create(string subject)
        {
            var key = RSA.Create(2048);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            var now = DateTimeOffset.UtcNow;
            return new TestAuthority(key, request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30)));
        }

        public X509Certificate2 Issue(string subject)
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
            var now = DateTimeOffset.UtcNow;
            using var issued = request.Create(Certificate, now.AddHours(-1), now.AddDays(7), RandomNumberGenerator.GetBytes(12));
            using var withKey = issued.CopyWithPrivateKey(key);
            return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        }

        public string WritePem(DirectoryInfo directory, string file)
        {
            var path = Path.Combine(directory.FullName, file);
            File.WriteAllText(path, Certificate.ExportCertificatePem());
            return path;
        }

        public void Dispose()
        {
            Certificate.Dispose();
            _key.Dispose();
        }
    }
}
