using System.Security.Cryptography;
using System.Text;
using RoutingCluster.Grains.Privacy;

namespace RoutingCluster.Grains.Tests.Privacy;

/// <summary>A customer's pseudonym and a request's fingerprint are keyed: stable under one key, different under another,
/// and nothing anyone can recompute without the key.</summary>
public sealed class CustomerPseudonymsTests
{
    private static readonly byte[] Key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] OtherKey = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public void Pseudonym_IsStableUnderOneKey_AcrossInstances()
    {
        var first = new CustomerPseudonyms(Key).OfCustomer("CUST-8613912345678");

        Assert.Equal(first, new CustomerPseudonyms(Key).OfCustomer("CUST-8613912345678"));
        Assert.Equal(first, new CustomerPseudonyms(Key).OfCustomer("CUST-8613912345678"));
    }

    [Fact]
    public void Pseudonym_DiffersPerKey_AndPerCustomer()
    {
        var pseudonyms = new CustomerPseudonyms(Key);

        Assert.NotEqual(pseudonyms.OfCustomer("CUST-8613912345678"), new CustomerPseudonyms(OtherKey).OfCustomer("CUST-8613912345678"));
        Assert.NotEqual(pseudonyms.OfCustomer("CUST-8613912345678"), pseudonyms.OfCustomer("CUST-8613912345679"));
    }

    [Fact]
    public void Pseudonym_IsHmacSha256OfTheIdUnderTheKey_InLowercaseHex_NeverTheIdOrItsPlainHash()
    {
        var pseudonym = new CustomerPseudonyms(Key).OfCustomer("+86 139 1234 5678");

        // What an analyst holding the key computes with any HMAC tool, so figures can be joined with the bank's own.
        Assert.Equal(Convert.ToHexStringLower(HMACSHA256.HashData(Key, Encoding.UTF8.GetBytes("+86 139 1234 5678"))), pseudonym);
        Assert.Equal(CustomerPseudonyms.Length, pseudonym.Length);
        Assert.Matches("^[0-9a-f]{64}$", pseudonym);
        Assert.NotEqual(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("+86 139 1234 5678"))), pseudonym);
    }

    [Fact]
    public void Fingerprint_IsStableUnderOneKey_DiffersPerKeyAndContent_AndIsNotAPlainHash()
    {
        var request = """{"queueId":"cards","customer":{"id":"CUST-8613912345678","age":72}}"""u8.ToArray();
        var fingerprint = new CustomerPseudonyms(Key).Fingerprint(request);

        Assert.Equal(fingerprint, new CustomerPseudonyms(Key).Fingerprint(request));
        Assert.NotEqual(fingerprint, new CustomerPseudonyms(OtherKey).Fingerprint(request));
        Assert.NotEqual(fingerprint, new CustomerPseudonyms(Key).Fingerprint("""{"queueId":"cards","customer":{"id":"CUST-8613912345678","age":73}}"""u8));
        Assert.NotEqual(Convert.ToHexStringLower(SHA256.HashData(request)), fingerprint);
        Assert.NotEqual(Convert.ToHexStringLower(HMACSHA256.HashData(Key, request)), fingerprint);   // a key of its own
        Assert.Matches("^[0-9a-f]{64}$", fingerprint);
    }

    [Fact]
    public void Fingerprint_NeverEqualsThePseudonymOfTheSameText()
    {
        var pseudonyms = new CustomerPseudonyms(Key);

        Assert.NotEqual(pseudonyms.OfCustomer("c-9"), pseudonyms.Fingerprint("c-9"u8));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    public void Key_ShorterThan32Bytes_IsRefused(int length) =>
        Assert.Throws<ArgumentException>(() => new CustomerPseudonyms(new byte[length]));

    [Fact]
    public void Short_KeepsTheFirst12HexDigits()
    {
        var pseudonym = new CustomerPseudonyms(Key).OfCustomer("c-9");

        Assert.Equal(pseudonym[..12], CustomerPseudonyms.Short(pseudonym));
        Assert.Equal("abc", CustomerPseudonyms.Short("abc"));
    }
}
