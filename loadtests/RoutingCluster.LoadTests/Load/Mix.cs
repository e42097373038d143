using System.Globalization;
using System.Text.RegularExpressions;
using RoutingCluster.Client;

namespace RoutingCluster.LoadTests.Load;

/// <summary>
/// A weighted choice read from an option such as <c>--channels voice:0.5,chat:0.5</c>. Weights are relative
/// (<c>voice:1,chat:1</c> is half each); they are normalized to shares that sum to 1.
/// </summary>
internal sealed class Mix<T>
    where T : notnull
{
    private readonly double[] _cumulative;

    public Mix(IReadOnlyList<(T Value, double Share)> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0)
        {
            throw new ArgumentException("A mix needs at least one item.", nameof(items));
        }

        var total = items.Sum(i => i.Share);
        Items = [.. items.Select(i => (i.Value, i.Share / total))];
        _cumulative = new double[Items.Count];
        var sum = 0.0;
        for (var i = 0; i < Items.Count; i++)
        {
            sum += Items[i].Share;
            _cumulative[i] = sum;
        }

        _cumulative[^1] = 1.0;
    }

    /// <summary>The values with their shares (summing to 1), in the order given.</summary>
    public IReadOnlyList<(T Value, double Share)> Items { get; }

    public IEnumerable<T> Values => Items.Select(i => i.Value);

    /// <summary>The value for a uniform draw <paramref name="u"/> in [0, 1).</summary>
    public T Pick(double u)
    {
        for (var i = 0; i < _cumulative.Length; i++)
        {
            if (u < _cumulative[i])
            {
                return Items[i].Value;
            }
        }

        return Items[^1].Value;
    }

    public override string ToString() =>
        string.Join(",", Items.Select(i => $"{Mixes.Name(i.Value)}:{i.Share.ToString("0.####", CultureInfo.InvariantCulture)}"));
}

/// <summary>Parsing of the <c>name:number,name:number</c> options (mixes, capacities, segment shares).</summary>
internal static partial class Mixes
{
    private static readonly Dictionary<string, Channel> ChannelsByName = Enum.GetValues<Channel>().ToDictionary(WireName, StringComparer.Ordinal);

    /// <summary>The contract's wire names of the channels: voice, video, chat, app, wechat, sms, email, weibo, 5g.</summary>
    public static IEnumerable<string> ChannelNames => ChannelsByName.Keys;

    /// <summary><c>--channels voice:0.5,chat:0.5</c>.</summary>
    public static Mix<Channel> ParseChannels(string text, string option) =>
        new(ParseShares(text, option, name => ParseChannel(name, option)));

    /// <summary><c>--skills cards:0.7,loans:0.3</c>: skill names as the API takes them (1–128 of <c>[A-Za-z0-9._:-]</c>).</summary>
    public static Mix<string> ParseSkills(string text, string option) =>
        new(ParseShares(text, option, name => IdPattern().IsMatch(name) ? name : throw new ArgumentException($"--{option}: '{name}' is not a valid skill name (1-128 characters from A-Z a-z 0-9 . _ : -).")));

    /// <summary><c>--capacity voice:1,chat:3</c>: sessions per channel, 0–100.</summary>
    public static IReadOnlyDictionary<Channel, int> ParseCapacity(string text, string option) =>
        ParsePairs(text, option, name => ParseChannel(name, option), (value, name, opt) =>
            int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= 100
                ? n
                : throw new ArgumentException($"--{opt}: the capacity of '{name}' must be a whole number from 0 to 100, not '{value}'."))
        .ToDictionary(p => p.Key, p => p.Value);

    /// <summary><c>--segments vip:0.05,disabled:0.02</c>: the share of customers the gateway declares in each
    /// segment (drawn independently). Elderly comes from <c>--elderly-share</c> (by age) instead.</summary>
    public static IReadOnlyDictionary<Segment, double> ParseSegments(string text, string option)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return new Dictionary<Segment, double>();
        }

        return ParsePairs(text, option, name => name switch
        {
            "elderly" => throw new ArgumentException($"--{option}: give elderly customers with --elderly-share (the queue derives the segment from their age)."),
            _ when WireNames<Segment>.TryParse(name, out var segment) => segment,
            _ => throw new ArgumentException($"--{option}: '{name}' is not a segment (one of disabled, military, vip)."),
        }, (value, name, opt) =>
            double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var share) && share is >= 0 and <= 1
                ? share
                : throw new ArgumentException($"--{opt}: the share of '{name}' must be a number from 0 to 1, not '{value}'."))
        .ToDictionary(p => p.Key, p => p.Value);
    }

    /// <summary>A value's name as the options and the report write it (channels by their wire name).</summary>
    public static string Name<T>(T value)
        where T : notnull => value is Channel channel ? WireName(channel) : value.ToString() ?? string.Empty;

    public static string WireName(Channel channel) => WireNames<Channel>.Of(channel);

    private static Channel ParseChannel(string name, string option) =>
        ChannelsByName.TryGetValue(name, out var channel)
            ? channel
            : throw new ArgumentException($"--{option}: '{name}' is not a channel (one of {string.Join(", ", ChannelNames)}).");

    private static double ParseWeight(string value, string name, string option) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) && double.IsFinite(weight) && weight > 0
            ? weight
            : throw new ArgumentException($"--{option}: the share of '{name}' must be a number greater than 0, not '{value}'.");

    private static List<KeyValuePair<TKey, TValue>> ParsePairs<TKey, TValue>(
        string text, string option, Func<string, TKey> parseKey, Func<string, string, string, TValue> parseValue)
        where TKey : notnull
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ArgumentException($"--{option} is empty: give name:value pairs separated by commas, e.g. voice:0.5,chat:0.5.");
        }

        var pairs = new List<KeyValuePair<TKey, TValue>>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var colon = part.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == part.Length - 1)
            {
                throw new ArgumentException($"--{option}: '{part}' is not name:value (e.g. voice:0.5).");
            }

            var name = part[..colon].Trim();
            var key = parseKey(name);
            if (pairs.Any(p => EqualityComparer<TKey>.Default.Equals(p.Key, key)))
            {
                throw new ArgumentException($"--{option}: '{name}' is given twice.");
            }

            pairs.Add(new(key, parseValue(part[(colon + 1)..].Trim(), name, option)));
        }

        return pairs;
    }

    private static List<(TKey, double)> ParseShares<TKey>(string text, string option, Func<string, TKey> parseKey)
        where TKey : notnull =>
        [.. ParsePairs(text, option, parseKey, ParseWeight).Select(p => (p.Key, p.Value))];

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,128}$")]
    private static partial Regex IdPattern();
}
