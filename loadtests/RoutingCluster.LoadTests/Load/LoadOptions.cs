using System.Globalization;
using System.Text.RegularExpressions;
using RoutingCluster.Client;

namespace RoutingCluster.LoadTests.Load;

/// <summary>The settings of the main load command, read strictly from its options (see <see cref="Usage"/>).</summary>
internal sealed partial record LoadOptions
{
    public const int MaxDurationSeconds = 600;

    public required Uri Target { get; init; }

    /// <summary>Sessions created per second (mean of the Poisson arrivals).</summary>
    public required double Rate { get; init; }

    public required int DurationSeconds { get; init; }

    public required int MaxSessions { get; init; }

    public required int Agents { get; init; }

    public required int Queues { get; init; }

    /// <summary>Prefix of every id the run creates (queues, agents, customers, idempotency keys).</summary>
    public required string RunId { get; init; }

    public required int Seed { get; init; }

    public required Mix<Channel> Channels { get; init; }

    public required Mix<string> Skills { get; init; }

    /// <summary>The minimum level a session asks for its skill.</summary>
    public required int SkillLevel { get; init; }

    /// <summary>Share of agents with every skill of the mix (level 3), besides their primary skill (level 5).</summary>
    public required double CrossTrained { get; init; }

    public required double ElderlyShare { get; init; }

    public required int ElderlyAge { get; init; }

    /// <summary>Segments the gateway declares, each with the share of customers that have it.</summary>
    public required IReadOnlyDictionary<Segment, double> DeclaredSegments { get; init; }

    /// <summary>Each agent's capacity per channel.</summary>
    public required IReadOnlyDictionary<Channel, int> Capacity { get; init; }

    public required int AcceptDelayMs { get; init; }

    /// <summary>Mean talk time (exponential), in seconds.</summary>
    public required double TalkSeconds { get; init; }

    public required double WrapUpSeconds { get; init; }

    public required double OfferTimeoutSeconds { get; init; }

    /// <summary>After the last arrival, how long to wait at most for the sessions to finish.</summary>
    public required int DrainSeconds { get; init; }

    /// <summary>Sessions scheduled before this offset are left out of the latency figures (not of the checks).</summary>
    public required double WarmupSeconds { get; init; }

    public required string OutDirectory { get; init; }

    /// <summary>Reads the options; throws <see cref="ArgumentException"/> with a message for the user when one is wrong.</summary>
    public static LoadOptions Parse(IReadOnlyList<string> args) => Parse(new CommandLine(args));

    /// <summary>The name of every option the command reads (without the leading <c>--</c>).</summary>
    public static IReadOnlyCollection<string> OptionNames()
    {
        var line = new CommandLine([]);
        _ = Parse(line);
        return line.Read;
    }

    private static LoadOptions Parse(CommandLine line)
    {
        var targetText = line.Text("target", "http://127.0.0.1:5000");
        var channels = Mixes.ParseChannels(line.Text("channels", "voice:0.5,chat:0.5"), "channels");
        var capacityText = line.OptionalText("capacity");
        var options = new LoadOptions
        {
            Target = ParseTarget(targetText),
            Rate = line.Double("rate", 50, 0.01, 100_000),
            DurationSeconds = line.Int("duration-s", 30, 1, MaxDurationSeconds),
            MaxSessions = line.Int("max-sessions", 100_000, 1, 1_000_000),
            Agents = line.Int("agents", 50, 1, 20_000),
            Queues = line.Int("queues", 1, 1, 100),
            RunId = ParseRunId(line.OptionalText("run-id")),
            Seed = line.Int("seed", 1, 0, int.MaxValue),
            Channels = channels,
            Skills = Mixes.ParseSkills(line.Text("skills", "cards:1"), "skills"),
            SkillLevel = line.Int("skill-level", 2, 1, 5),
            CrossTrained = line.Double("cross-trained", 0.5, 0, 1),
            ElderlyShare = line.Double("elderly-share", 0, 0, 1),
            ElderlyAge = line.Int("elderly-age", 75, 65, 150),
            DeclaredSegments = Mixes.ParseSegments(line.Text("segments", string.Empty), "segments"),
            Capacity = capacityText is null ? DefaultCapacity(channels) : Mixes.ParseCapacity(capacityText, "capacity"),
            AcceptDelayMs = line.Int("accept-delay-ms", 200, 0, 60_000),
            TalkSeconds = line.Double("talk-s", 3, 0, 3_600),
            WrapUpSeconds = line.Double("wrap-up-s", 1, 0, 3_600),
            OfferTimeoutSeconds = line.Double("offer-timeout-s", 15, 0.1, 3_600),
            DrainSeconds = line.Int("drain-s", 30, 0, 600),
            WarmupSeconds = line.Double("warmup-s", 0, 0, MaxDurationSeconds),
            OutDirectory = line.Text("out", Path.Combine("loadtests", "results")),
        };
        line.RejectUnknown();

        foreach (var channel in options.Channels.Values.Where(c => options.Capacity.GetValueOrDefault(c) <= 0))
        {
            throw new ArgumentException($"--capacity gives agents no capacity for {Mixes.WireName(channel)}, which --channels uses: those sessions could never be offered.");
        }

        if (options.WarmupSeconds >= options.DurationSeconds)
        {
            throw new ArgumentException($"--warmup-s ({options.WarmupSeconds.ToString(CultureInfo.InvariantCulture)}) must be shorter than --duration-s ({options.DurationSeconds}).");
        }

        // Every skill needs someone who can serve it (throws with a message when the agents are too few).
        _ = Workload.PrimarySkills(options.Skills, options.Agents, options.CrossTrained);
        return options;
    }

    /// <summary>
    /// Agents needed on average for the offered load, from the mean time a session holds an agent's slot (accept
    /// delay + talk + wrap-up) and the capacity per channel (Little's law). Above <see cref="Agents"/> the
    /// sessions wait for agents, and create → offer then measures queueing, not routing.
    /// </summary>
    public double AgentsNeeded()
    {
        var hold = (AcceptDelayMs / 1000.0) + TalkSeconds + WrapUpSeconds;
        return Channels.Items.Sum(i => Rate * i.Share * hold / Capacity[i.Value]);
    }

    /// <summary>The target must be this machine: 127.0.0.1, ::1 or localhost, over http or https.</summary>
    public static Uri ParseTarget(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"--target '{text}' is not an absolute http:// or https:// URL.");
        }

        var host = uri.Host.Trim('[', ']');
        if (host is not ("127.0.0.1" or "::1") && !string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException(
                $"--target host '{uri.Host}' is not allowed: this driver only loads a host on this machine (127.0.0.1, ::1 or localhost).");
        }

        return uri;
    }

    /// <summary>The server's default capacity of each channel the mix uses (voice 1, video 1, email 5, others 3).</summary>
    public static IReadOnlyDictionary<Channel, int> DefaultCapacity(Mix<Channel> channels) =>
        channels.Values.ToDictionary(c => c, c => c switch
        {
            Channel.Voice or Channel.Video => 1,
            Channel.Email => 5,
            _ => 3,
        });

    private static string ParseRunId(string? text)
    {
        if (text is null)
        {
            return Guid.NewGuid().ToString("N")[..8];
        }

        return RunIdPattern().IsMatch(text)
            ? text
            : throw new ArgumentException($"--run-id '{text}' must be 1-40 characters from A-Z a-z 0-9 . _ -.");
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,40}$")]
    private static partial Regex RunIdPattern();

    public const string Usage = """
        RoutingCluster load driver

        Usage:
          RoutingCluster.LoadTests [options]             the load test (below); the default command
          RoutingCluster.LoadTests offer-latency [...]   create -> offer latency only (see its section)
          RoutingCluster.LoadTests --help

        Load test: open-model arrivals (Poisson at --rate, each session created on its schedule whether or not the
        earlier ones were answered) against a host that is already running, on this machine only. It sets up
        --queues queues and --agents agents over HTTP, signs every agent in over SignalR (AgentDesktopClient) and
        sets it ready; each simulated agent accepts its offers after --accept-delay-ms, talks for an exponential
        time (mean --talk-s), ends the session, and the server ends wrap-up after --wrap-up-s (the queue's
        wrapUpSeconds). After the last arrival it waits (at most --drain-s) for the sessions to finish, then
        reads every session and agent back from the API and checks: no session lost, none offered to two agents
        at once, no agent over capacity, every session ended exactly once.

        Latency (HdrHistogram, p50/p90/p99/p99.9/max): create -> offer received at the agent's desktop, measured
        from the scheduled time (free of coordinated omission) and from the actual send; accept -> connected (the
        hub's answer to Accept); each HTTP route's round trip and each hub call's.

        Writes load-<run-id>.md and load-<run-id>.json to --out and prints last:
          RESULT sessions_per_s=<n> p99_offer_ms=<n> errors=<n> lost=<n> double_assigned=<n> over_capacity=<n> ...
        (p99_offer_ms is from the scheduled time; -1 when no offer was measured.)
        Exit code: 0 all checks hold and no errors; 1 an invariant is broken; 2 bad options; 3 no invariant
        broken but errors were counted; 4 the setup failed (host unreachable, agents could not sign in).

        Options (defaults in brackets):
          --target URL            the host's HTTP address; loopback only (127.0.0.1, ::1, localhost)
                                  [http://127.0.0.1:5000]
          --rate N                sessions created per second, mean of the Poisson arrivals (0.01-100000) [50]
          --duration-s N          seconds of arrivals (1-600) [30]
          --max-sessions N        stop the arrivals after this many sessions (1-1000000) [100000]
          --agents N              simulated agents, each with a SignalR connection (1-20000) [50]
          --queues N              queues; sessions are spread evenly, every agent serves every queue (1-100) [1]
          --run-id ID             prefix of every queue, agent, customer id and idempotency key of the run, so
                                  repeated runs against one host do not collide [a fresh 8-character id]
          --seed N                seed of the arrivals, the mix and the talk times [1]
          --channels MIX          channel mix, name:weight pairs (voice, video, chat, app, wechat, sms, email,
                                  weibo, 5g); weights are relative [voice:0.5,chat:0.5]
          --capacity LIST         each agent's capacity per channel, e.g. voice:1,chat:3 (0-100); every channel
                                  of --channels needs one [the server's defaults: voice 1, video 1, email 5,
                                  other channels 3]
          --skills MIX            skill mix of the sessions, name:weight pairs; each session needs one skill.
                                  Agents get a primary skill (level 5) in the same proportions [cards:1]
          --skill-level N         the minimum level a session asks for (1-5) [2]
          --cross-trained F       share of agents that also have every other skill, at level 3 (0-1) [0.5]
          --elderly-share F       share of customers who are elderly (0-1); the gateway sends their age and
                                  the queue derives the segment [0]
          --elderly-age N         the age sent for elderly customers (65-150); others get 18-64 [75]
          --segments LIST         declared segments, name:share pairs drawn independently, e.g. vip:0.05,
                                  disabled:0.02 (disabled, military, vip; 0-1 each) [none]
          --accept-delay-ms N     how long an agent takes to accept an offer (0-60000) [200]
          --talk-s N              mean talk time in seconds, exponential (0-3600; 0: end at once) [3]
          --wrap-up-s N           the queues' wrap-up time in seconds; the server ends it (0-3600) [1]
          --offer-timeout-s N     the queues' offer timeout in seconds (0.1-3600) [15]
          --drain-s N             after the last arrival, wait at most this long for sessions to finish
                                  (0-600) [30]
          --warmup-s N            leave sessions scheduled in the first N seconds out of the latency figures
                                  (they are still checked) [0]
          --out DIR               where the reports go [loadtests/results]
          --help                  this text

        offer-latency --target http://127.0.0.1:5000 --sessions 1000 --agents 50 [--queue lat]
                      [--rate 0] [--warmup 0] [--max-seconds 120] [--out results.md]
            Sets up a queue (wrap-up 0 s) and N agents over HTTP, signs N agent desktops in over SignalR
            (ready), then creates sessions and measures, for each one, the time from just before
            POST /v1/sessions to the moment its offer reaches the agent's desktop. Each agent accepts, ends
            and finishes wrap-up at once. --rate 0 (the default) creates one session at a time, the next
            after the previous offer arrived; --rate R creates R sessions per second (open loop).
            Reports count, p50, p90, p99 and max in ms, as a markdown table row.
        """;
}
