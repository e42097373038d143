using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace RoutingCluster.SiloHost.Hosting;

/// <summary>
/// Mutual TLS between silos (and on the silo's gateway port), from configuration: <c>Orleans:Tls:CertificatePath</c>
/// (the silo's certificate with its private key: PKCS#12, with <c>Orleans:Tls:CertificatePassword</c>; or PEM, with
/// <c>Orleans:Tls:KeyPath</c>) and <c>Orleans:Tls:CaCertificatePath</c> (PEM: the cluster's own certificate authority).
/// Every connection must present a certificate issued by that authority, both ways; the host name in it is not checked,
/// because silos reach each other by address (pods come and go), so the authority must issue certificates to silos
/// only. Without <c>Orleans:Tls:CertificatePath</c> silo traffic is plain TCP, for a private network.
/// </summary>
public sealed class SiloTls
{
    public const string CertificatePathKey = "Orleans:Tls:CertificatePath";
    public const string CertificatePasswordKey = "Orleans:Tls:CertificatePassword";
    public const string KeyPathKey = "Orleans:Tls:KeyPath";
    public const string CaCertificatePathKey = "Orleans:Tls:CaCertificatePath";

    /// <summary>The name a silo asks for when it connects (SNI); silo certificates need not carry it.</summary>
    public const string TargetHost = "routing-silo";

    private SiloTls(X509Certificate2 certificate, X509Certificate2 authority)
    {
        Certificate = certificate;
        Authority = authority;
    }

    /// <summary>This silo's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The authority every remote certificate must chain to.</summary>
    public X509Certificate2 Authority { get; }

    /// <summary>The settings in <paramref name="configuration"/>, or null when TLS is off. A setting that cannot be used
    /// (a missing file, a certificate without its key, no authority) stops the host with a message naming the key.</summary>
    public static SiloTls? From(IConfiguration configuration)
    {
        var path = configuration[CertificatePathKey];
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }

        var caPath = configuration[CaCertificatePathKey];
        if (string.IsNullOrWhiteSpace(caPath))
        {
            throw new InvalidOperationException($"{CaCertificatePathKey} is required with {CertificatePathKey}: the certificate authority that issues the silos' certificates.");
        }

        var certificate = LoadCertificate(path, configuration[KeyPathKey], configuration[CertificatePasswordKey]);
        if (!certificate.HasPrivateKey)
        {
            throw new InvalidOperationException($"{CertificatePathKey} '{path}' holds no private key (give a PKCS#12 file, or {KeyPathKey} with a PEM certificate).");
        }

        var authority = Load(CaCertificatePathKey, caPath, X509CertificateLoader.LoadCertificateFromFile);
        return new SiloTls(certificate, authority);
    }

    /// <summary>Configures Orleans' TLS: both ends present a certificate, and each must chain to <see cref="Authority"/>.</summary>
    public void Configure(TlsOptions options)
    {
        options.LocalCertificate = Certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = IsIssuedByAuthority;
        options.OnAuthenticateAsClient = (_, client) => client.TargetHost = TargetHost;
    }

    /// <summary>Whether <paramref name="certificate"/> chains to <see cref="Authority"/> (and to nothing else: the
    /// machine's trusted roots do not count) and is within its validity.</summary>
    public bool IsIssuedByAuthority(X509Certificate2 certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        using var own = new X509Chain();
        own.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        own.ChainPolicy.CustomTrustStore.Add(Authority);
        own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                own.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return own.Build(certificate);
    }

    private static X509Certificate2 LoadCertificate(string path, string? keyPath, string? password)
    {
        if (!string.IsNullOrWhiteSpace(keyPath))
        {
            // PEM: re-read as PKCS#12 so the private key is usable by TLS on every platform.
            var pem = Load(CertificatePathKey, path, p => X509Certificate2.CreateFromPemFile(p, keyPath));
            using (pem)
            {
                return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            }
        }

        return Load(CertificatePathKey, path, p => X509CertificateLoader.LoadPkcs12FromFile(p, password));
    }

    private static X509Certificate2 Load(string key, string path, Func<string, X509Certificate2> load)
    {
        try
        {
            return load(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new InvalidOperationException($"{key} '{path}' cannot be read as a certificate: {exception.Message}", exception);
        }
    }
}
