using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using RoutingCluster.Abstractions.Queues;
using RoutingCluster.Abstractions.Sessions;
using RoutingCluster.Grains.Privacy;
using RoutingCluster.Grains.Sessions;
using RoutingCluster.SiloHost.Access;
using RoutingCluster.SiloHost.Api.Contracts;
using Serilog.Core;
using Serilog.Events;

namespace RoutingCluster.SiloHost.Privacy;

/// <summary>
/// Customers' personal data at the edge: the pseudonym key (<c>Privacy:PseudonymKey</c>) and the
/// <see cref="CustomerPseudonyms"/> service made from it, which the API uses to replace a customer id with its pseudonym
/// and to fingerprint create requests before anything reaches a grain. Other services (an audit log, say) take the same
/// singleton from the services.
/// </summary>
public static class RoutingPrivacy
{
    public const string PseudonymKeySetting = "Privacy:PseudonymKey";

    /// <summary>The key of this process when none is configured in dev mode: one for the whole process, so hosts
    /// restarted in it (tests) keep their pseudonyms and fingerprints.</summary>
    private static readonly Lazy<byte[]> ProcessKey = new(() => RandomNumberGenerator.GetBytes(CustomerPseudonyms.MinimumKeyBytes));

    /// <summary>
    /// Registers <see cref="CustomerPseudonyms"/> under <c>Privacy:PseudonymKey</c>. Unset: in <c>dev</c> auth mode a
    /// random key of this process (a warning at start); in <c>jwt</c> mode the host refuses to start, as it does for a
    /// key that is not base64 of at least 32 bytes.
    /// </summary>
    public static WebApplicationBuilder AddRoutingPrivacy(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var mode = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>()?.Mode ?? AuthModes.Dev;
        var key = KeyFrom(configuration["Privacy:PseudonymKey"], mode, out var generated);
        builder.Services.AddSingleton(new CustomerPseudonyms(key));
        if (generated)
        {
            builder.Services.AddHostedService<PseudonymKeyNotice>();
        }

        return builder;
    }

    /// <summary>The key from its configured base64 text, or this process's random key when unset in dev mode.</summary>
    /// <exception cref="InvalidOperationException">The key is unset in jwt mode, not base64, or shorter than 32 bytes.</exception>
    public static byte[] KeyFrom(string? configured, string authMode, out bool generated)
    {
        generated = string.IsNullOrWhiteSpace(configured);
        if (generated)
        {
            return authMode == AuthModes.Dev
                ? ProcessKey.Value
                : throw new InvalidOperationException(
                    $"Auth:Mode is {authMode}: set {PseudonymKeySetting} (base64, at least {CustomerPseudonyms.MinimumKeyBytes} bytes, " +
                    "`openssl rand -base64 32`), the same on every silo of the cluster. Customers are known by their pseudonym " +
                    "under it: a random key per silo would give one customer a pseudonym per silo and per restart, and refuse " +
                    "a create retried on another silo as a reused idempotency key.");
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(configured!);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"{PseudonymKeySetting} must be base64 (at least {CustomerPseudonyms.MinimumKeyBytes} bytes), for example the output of `openssl rand -base64 32`.");
        }

        return bytes.Length >= CustomerPseudonyms.MinimumKeyBytes
            ? bytes
            : throw new InvalidOperationException($"{PseudonymKeySetting} holds {bytes.Length} bytes; it needs at least {CustomerPseudonyms.MinimumKeyBytes} (`openssl rand -base64 32`).");
    }

    /// <summary>Warns at start that the pseudonym key is random (<c>Privacy:PseudonymKey</c> unset in dev mode).</summary>
    private sealed class PseudonymKeyNotice(ILogger<PseudonymKeyNotice> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            PrivacyLog.PseudonymKeyGenerated(logger);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>Log messages about personal data handling. They never carry personal data themselves.</summary>
internal static partial class PrivacyLog
{
    [LoggerMessage(EventId = LogEventIds.PseudonymKeyGenerated, Level = LogLevel.Warning,
        Message = "Privacy:PseudonymKey is not set: customer pseudonyms and idempotency fingerprints use a random key of this process, so they change when it restarts and differ on other silos (a create retried on another silo answers 409)")]
    public static partial void PseudonymKeyGenerated(ILogger logger);
}

/// <summary>
/// What a log line makes of the objects that carry a customer's personal data, should one ever be logged destructured
/// (<c>{@Request}</c>, which writes an object's properties, not its <c>ToString</c>): the records between the API and
/// the grains as their own <c>ToString</c>, which leaves the age and attributes out, and the API's request bodies and
/// the session's stored state (which hold the customer id, or the age and attributes) as their type name only.
/// </summary>
internal sealed class PersonalDataDestructuringPolicy : IDestructuringPolicy
{
    public bool TryDestructure(object value, ILogEventPropertyValueFactory propertyValueFactory, [NotNullWhen(true)] out LogEventPropertyValue? result)
    {
        result = value switch
        {
            Customer or NewSession or EnqueueRequest => new ScalarValue(value.ToString()),
            CreateSessionRequest or CustomerRequest or SessionRecord => new ScalarValue($"{value.GetType().Name} (personal data withheld)"),
            _ => null,
        };
        return result is not null;
    }
}
