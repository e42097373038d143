using System.Security.Cryptography;
using System.Text;

namespace RoutingCluster.Grains.Privacy;

/// <summary>
/// Keyed pseudonyms of a customer's personal data, under the cluster's pseudonym key (<c>Privacy:PseudonymKey</c>).
/// A customer id is known inside the cluster by its pseudonym only: HMAC-SHA256 of its UTF-8 bytes under the key, in
/// lowercase hex. The same customer has the same pseudonym in every session and on every silo that shares the key, so
/// repeat contacts can be counted; without the key, nobody can tell whose it is, nor test a guess (a phone number, say).
/// </summary>
/// <remarks>
/// The idempotency fingerprint of a create request (<see cref="Fingerprint"/>) is an HMAC too, under a key derived from
/// the pseudonym key (HMAC-SHA256 of a fixed label under it), so it cannot be reversed by guessing a request's content
/// and never equals a customer's pseudonym. One instance per silo, in the services of the host; thread-safe.
/// </remarks>
public sealed class CustomerPseudonyms
{
    /// <summary>The least key length: 32 bytes (256 bits), the size of the HMAC-SHA256 output.</summary>
    public const int MinimumKeyBytes = 32;

    /// <summary>The length of a pseudonym: 64 lowercase hex digits.</summary>
    public const int Length = 2 * HMACSHA256.HashSizeInBytes;

    /// <summary>How many leading hex digits <see cref="Short"/> keeps.</summary>
    public const int ShortLength = 12;

    private static readonly byte[] FingerprintLabel = "routing-cluster idempotency fingerprint v1"u8.ToArray();

    private readonly byte[] _key;
    private readonly byte[] _fingerprintKey;

    /// <summary>Pseudonyms under <paramref name="key"/> (at least <see cref="MinimumKeyBytes"/> bytes).</summary>
    public CustomerPseudonyms(ReadOnlySpan<byte> key)
    {
        if (key.Length < MinimumKeyBytes)
        {
            throw new ArgumentException($"A pseudonym key needs at least {MinimumKeyBytes} bytes; this one has {key.Length}.", nameof(key));
        }

        _key = key.ToArray();
        _fingerprintKey = HMACSHA256.HashData(_key, FingerprintLabel);
    }

    /// <summary>The pseudonym of <paramref name="customerId"/>: HMAC-SHA256 of its UTF-8 bytes under the key, lowercase hex.</summary>
    public string OfCustomer(string customerId)
    {
        ArgumentNullException.ThrowIfNull(customerId);
        return Hex(_key, Encoding.UTF8.GetBytes(customerId));
    }

    /// <summary>The keyed fingerprint of a request's canonical form (lowercase hex): equal for equal requests under the
    /// same key, and telling nothing of the request without it.</summary>
    public string Fingerprint(ReadOnlySpan<byte> canonicalRequest) => Hex(_fingerprintKey, canonicalRequest);

    /// <summary>A pseudonym cut to its first <see cref="ShortLength"/> hex digits: enough to tell customers apart in a
    /// log line or a support ticket, never more than the pseudonym itself tells.</summary>
    public static string Short(string pseudonym) => pseudonym.Length <= ShortLength ? pseudonym : pseudonym[..ShortLength];

    private static string Hex(byte[] key, ReadOnlySpan<byte> data)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, data, mac);
        return Convert.ToHexStringLower(mac);
    }
}
