using System.Globalization;
using System.Text.RegularExpressions;
using RoutingCluster.Client;

namespace RoutingCluster.LoadTests.Load;

/// <summary>The settings of the main load command, read strictly from its options (see <see cref="Usage"/>).</summary>
internal sealed partial record LoadOptions
{
    public const int MaxDurationSeconds = 600;

    /// <summary>The first of <see cref="Targets"/>: set-up, checks and the live figures go through it.</summary>
    public required Uri Target { get; init; }

    /// <summary>Every host the run drives (<c>--targets</c>): sessions are created on them in turn and agent i signs
    /// in on target i mod n; the host metrics are read from each.</summary>
    public required IReadOnlyList<Uri> Targets { get; init; }

    /// <summary>The step mode's settings; null for a run at one rate.</summary>
    public StepSettings? Step { get; init; }

    /// <summary>The number of agents was sized from the load (<c>--agents auto</c>).</summary>
    public bool AgentsAuto { get; init; }

    /// <summary>Read every target's <c>/metrics</c> before and after each measured stretch (<c>--host-metrics</c>).</summary>
    public bool HostMetrics { get; init; } = true;

    /// <summary>Connection string of the hosts' PostgreSQL, to read the rows written (<c>--pg-stats</c>); null: not read.</summary>
    public string? PgStats { get; init; }

    /// <summary>Seconds to wait before the last database read, so every server process has reported its counters.</summary>
    public int PgSettleSeconds { get; init; } = 11;

    /// <summary>Poll the live <c>answered</c> figure during the run to measure its staleness (<c>--watch-stats</c>).</summary>
    public bool WatchStats { get; init; }

    public int WatchEveryMs { get; init; } = 250;

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

    /// <summary>Share of customers who leave the line for a callback (at once, keeping their place) right after their
    /// session is created, while it is still queued.</summary>
    public double CallbackShare { get; init; }

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

    /// <summary>A session is served in time when its offer reached a desktop within this long of its scheduled
    /// arrival: the bound of the goodput (sessions completed in time).</summary>
    public required int InTimeMs { get; init; }

    /// <summary>How long the host keeps a finished session (its <c>Storage:FinishedSessionRetention</c>; 0: for as long as
    /// it runs). A session whose end its agent saw acknowledged at least this long before the check, less a second, and
    /// that answers 404 was forgotten as configured, not lost.</summary>
    public required double FinishedRetentionSeconds { get; init; }

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
        var targetText = line.OptionalText("target");
        var targetsText = line.OptionalText("targets");
        if (targetText is not null && targetsText is not null)
        {
            throw new ArgumentException("Give --target or --targets, not both.");
        }

        IReadOnlyList<Uri> targets = targetsText is null
            ? [ParseTarget(targetText ?? "http://127.0.0.1:5000")]
            : [.. targetsText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(ParseTarget)];
        if (targets.Count == 0)
        {
            throw new ArgumentException("--targets is empty: give one or more URLs separated by commas.");
        }

        var step = ParseStep(line);
        var rateGiven = line.OptionalText("rate") is not null;
        var durationGiven = line.OptionalText("duration-s") is not null;
        if (step is not null && (rateGiven || durationGiven))
        {
            throw new ArgumentException("--step-from sets the rates and durations: leave out --rate and --duration-s (use --step-by or --step-factor, --step-max and --step-s).");
        }

        var agentsText = line.OptionalText("agents");
        var agentsAuto = agentsText == "auto";
        var channels = Mixes.ParseChannels(line.Text("channels", "voice:0.5,chat:0.5"), "channels");
        var capacityText = line.OptionalText("capacity");
        var options = new LoadOptions
        {
            Target = targets[0],
            Targets = targets,
            Step = step,
            AgentsAuto = agentsAuto,
            Rate = step?.FromRate ?? line.Double("rate", 50, 0.01, 100_000),
            DurationSeconds = step?.StepSeconds ?? line.Int("duration-s", 30, 1, MaxDurationSeconds),
            MaxSessions = line.Int("max-sessions", 100_000, 1, 1_000_000),
            Agents = agentsAuto ? 1 : line.Int("agents", 50, 1, 20_000),
            HostMetrics = ParseSwitch(line, "host-metrics", true),
            PgStats = line.OptionalText("pg-stats"),
            PgSettleSeconds = line.Int("pg-settle-s", 11, 0, 120),
            WatchStats = ParseSwitch(line, "watch-stats", false),
            WatchEveryMs = line.Int("watch-every-ms", 250, 50, 10_000),
            Queues = line.Int("queues", 1, 1, 100),
            RunId = ParseRunId(line.OptionalText("run-id")),
            Seed = line.Int("seed", 1, 0, int.MaxValue),
            Channels = channels,
            Skills = Mixes.ParseSkills(line.Text("skills", "cards:1"), "skills"),
            SkillLevel = line.Int("skill-level", 2, 1, 5),
            CrossTrained = line.Double("cross-trained", 0.5, 0, 1),
            ElderlyShare = line.Double("elderly-share", 0, 0, 1),
            CallbackShare = line.Double("callback-share", 0, 0, 1),
            ElderlyAge = line.Int("elderly-age", 75, 65, 150),
            DeclaredSegments = Mixes.ParseSegments(line.Text("segments", string.Empty), "segments"),
            Capacity = capacityText is null ? DefaultCapacity(channels) : Mixes.ParseCapacity(capacityText, "capacity"),
            AcceptDelayMs = line.Int("accept-delay-ms", 200, 0, 60_000),
            TalkSeconds = line.Double("talk-s", 3, 0, 3_600),
            WrapUpSeconds = line.Double("wrap-up-s", 1, 0, 3_600),
            OfferTimeoutSeconds = line.Double("offer-timeout-s", 15, 0.1, 3_600),
            DrainSeconds = line.Int("drain-s", 30, 0, 600),
            WarmupSeconds = line.Double("warmup-s", 0, 0, MaxDurationSeconds),
            InTimeMs = line.Int("in-time-ms", 1000, 1, 600_000),
            FinishedRetentionSeconds = line.Double("finished-retention-s", 0, 0, 86_400),
            OutDirectory = line.Text("out", Path.Combine("loadtests", "results")),
        };
        line.RejectUnknown();

        if (agentsAuto)
        {
            // Enough agents for the highest rate the run offers, three times over (the server holds an agent's slot
            // longer than accept + talk + wrap-up: the offer's and the calls' round trips too), and 10 more.
            var highest = step?.Rates() is { Count: > 0 } rates ? rates[^1] : options.Rate;
            options = options with { Agents = (int)Math.Min(20_000, Math.Ceiling(options.AgentsNeeded(highest) * 3) + 10) };
        }

        foreach (var channel in options.Channels.Values.Where(c => options.Capacity.GetValueOrDefault(c) <= 0))
        {
            throw new ArgumentException($"--capacity gives agents no capacity for {Mixes.WireName(channel)}, which --channels uses: those sessions could never be offered.");
        }

        if (options.WarmupSeconds >= options.DurationSeconds)
        {
            throw new ArgumentException($"--warmup-s ({options.WarmupSeconds.ToString(CultureInfo.InvariantCulture)}) must be shorter than {(options.Step is null ? "--duration-s" : "--step-s")} ({options.DurationSeconds}).");
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
    public double AgentsNeeded() => AgentsNeeded(Rate);

    /// <summary>Agents needed on average at <paramref name="rate"/> sessions per second (see <see cref="AgentsNeeded()"/>).</summary>
    public double AgentsNeeded(double rate)
    {
        var hold = (AcceptDelayMs / 1000.0) + TalkSeconds + WrapUpSeconds;
        return Channels.Items.Sum(i => rate * i.Share * hold / Capacity[i.Value]);
    }

    private static StepSettings? ParseStep(CommandLine line)
    {
        var from = line.OptionalText("step-from");
        var byText = line.OptionalText("step-by");
        var factorText = line.OptionalText("step-factor");
        var settings = new StepSettings
        {
            FromRate = line.Double("step-from", 50, 0.01, 100_000),
            By = byText is null ? null : line.Double("step-by", 50, 0.01, 100_000),
            Factor = factorText is null ? null : line.Double("step-factor", 1.5, 1.01, 10),
            MaxRate = line.Double("step-max", 2000, 0.01, 100_000),
            StepSeconds = line.Int("step-s", 20, 1, MaxDurationSeconds),
            P99LimitMs = line.Double("step-p99-ms", 50, 0.1, 600_000),
            WarmupSeconds = line.Int("step-warmup-s", 0, 0, MaxDurationSeconds),
            BudgetSeconds = line.Int("step-budget-s", 1200, 10, 86_400),
            Retries = line.Int("step-retries", 0, 0, 5),
        };
        if (from is null)
        {
            return null;
        }

        if (byText is not null && factorText is not null)
        {
            throw new ArgumentException("Give --step-by or --step-factor, not both.");
        }

        if (settings.MaxRate < settings.FromRate)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--step-max ({settings.MaxRate}) is below --step-from ({settings.FromRate})."));
        }

        return byText is null && factorText is null ? settings with { By = settings.FromRate } : settings;
    }

    private static bool ParseSwitch(CommandLine line, string name, bool fallback) => line.OptionalText(name) switch
    {
        null => fallback,
        "on" or "true" or "1" => true,
        "off" or "false" or "0" => false,
        var other => throw new ArgumentException($"--{name} must be on or off, not '{other}'."),
    };

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

    internal static string ParseRunId(string? text)
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
          RoutingCluster.LoadTests site-takeover [...]   the clients of a backup-site takeover drill (see its section)
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
          --targets URL,URL,...   several silos of one cluster instead of --target: sessions are created on
                                  them in turn, agent i signs in on the (i mod n)-th, set-up, checks and the
                                  live figures go through the first, host metrics are read from all
          --rate N                sessions created per second, mean of the Poisson arrivals (0.01-100000) [50]
          --duration-s N          seconds of arrivals (1-600) [30]
          --max-sessions N        stop the arrivals after this many sessions (1-1000000) [100000]
          --agents N|auto         simulated agents, each with a SignalR connection (1-20000); auto: three
                                  times the agents the highest rate needs (see the warning), plus 10 [50]
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
          --callback-share F      share of customers who ask for a callback (POST /v1/sessions/{id}/callback,
                                  at once) right after their session is created, if it is still queued (0-1) [0]
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
          --in-time-ms N          a session is served in time when its offer reached a desktop within N ms of
                                  its scheduled arrival; completed_in_time counts those completed, after the
                                  warm-up (the goodput)
                                  (1-600000) [1000]
          --finished-retention-s N  the host's Storage:FinishedSessionRetention in seconds, for runs longer
                                  than it: a session whose end its agent saw acknowledged at least N s (less
                                  1 s) before the check and that answers 404 counts as forgotten, not lost
                                  (0-86400; 0: the host keeps every session) [0]
          --out DIR               where the reports go [loadtests/results]
          --host-metrics on|off   read every target's /metrics before and after each measured stretch and
                                  report grain calls, messages to grains, cross-silo messages, grain storage
                                  writes, HTTP requests, Npgsql commands and host CPU, in total and per
                                  completed session lifecycle [on]
          --pg-stats CONN         the hosts' PostgreSQL (Npgsql connection string): read pg_stat_user_tables
                                  before and after each stretch and report rows written (n_tup_ins +
                                  n_tup_upd) per table and per lifecycle [not read]
          --pg-settle-s N         wait this long before the run's last database read: a server process
                                  reports its counters up to 10 s after it goes idle (0-120) [11]
          --watch-stats on|off    poll GET /v1/stats?groupBy=queue every --watch-every-ms on the first target
                                  and report how far the live `answered` of the run's queues lags behind
                                  the accepts the desktops saw (p50/p99/max seconds) [off]
          --watch-every-ms N      the poll interval of --watch-stats (50-10000) [250]
          --help                  this text

        Step mode (--step-from): the highest sustainable rate. After one set-up (queues, agents), runs steps of
        --step-s seconds at rising Poisson rates, each with fresh session ids, drained and checked before the
        next. A step passes when p99 create -> offer (from scheduled, after --warmup-s of the step) is at most
        --step-p99-ms, with no error, no broken invariant, no session unfinished after the drain, no missed offer
        and none refused. The run stops at the first failed step, past --step-max, or once --step-budget-s has
        passed; the highest sustainable rate is the rate of the last step that passed (0: none did). Leave out
        --rate and --duration-s; size the agents for --step-max (--agents auto).
          --step-from N           the first step's rate, sessions per second (0.01-100000)
          --step-by N             add this to the rate at each step [the first step's rate]
          --step-factor F         or multiply the rate by F at each step (1.01-10)
          --step-max N            no step above this rate (0.01-100000) [2000]
          --step-s N              seconds of arrivals per step (1-600) [20]
          --step-p99-ms N         the p99 create -> offer limit of a passing step, ms [50]
          --step-warmup-s N       first run N seconds at --step-from, checked but not judged (0-600) [0]
          --step-budget-s N       start no step after this many seconds of the run (10-86400) [1200]
          --step-retries N        run a step that failed on p99 alone again, up to N times, fresh sessions,
                                  judged by its last attempt (0-5) [0]
        Reports: load-<run-id>.md/.json with a table of the steps (rate, achieved, p50/p99/max create -> offer,
        errors, checks, grain calls and DB writes per lifecycle, CPU) and each step's full figures; the RESULT
        line gives sessions_per_s and p99_offer_ms of the last step that passed (of the first step when none
        did), the counts (errors, lost, ..., missed_offers) summed over every step, then
        max_sustainable_per_s=<n> steps=<n> stopped_by=<p99|errors|invariants|unfinished|missed_offers|
        refused|no_offers|max|budget|cancelled>. Exit code: 1 when an invariant broke in any step, else 0 (a
        failed step is the answer, not an error); 2 and 4 as above.

        offer-latency --target http://127.0.0.1:5000 --sessions 1000 --agents 50 [--queue lat]
                      [--rate 0] [--warmup 0] [--max-seconds 120] [--out results.md]
            Sets up a queue (wrap-up 0 s) and N agents over HTTP, signs N agent desktops in over SignalR
            (ready), then creates sessions and measures, for each one, the time from just before
            POST /v1/sessions to the moment its offer reaches the agent's desktop. Each agent accepts, ends
            and finishes wrap-up at once. --rate 0 (the default) creates one session at a time, the next
            after the previous offer arrived; --rate R creates R sessions per second (open loop).
            Reports count, p50, p90, p99 and max in ms, as a markdown table row.

        """ + Takeover.TakeoverOptions.Usage;
}
