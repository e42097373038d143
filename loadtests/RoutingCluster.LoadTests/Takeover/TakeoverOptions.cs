using RoutingCluster.LoadTests.Load;

namespace RoutingCluster.LoadTests.Takeover;

/// <summary>The settings of the <c>site-takeover</c> command, read strictly from its options (see <see cref="Usage"/>).</summary>
internal sealed record TakeoverOptions
{
    /// <summary>The silos of the site that is lost (gateways and desktops try them first).</summary>
    public required IReadOnlyList<Uri> SiteA { get; init; }

    /// <summary>The silos of the backup site, started after the loss.</summary>
    public required IReadOnlyList<Uri> SiteB { get; init; }

    /// <summary>Where the command and the script that kills site A leave each other their marks.</summary>
    public required string Control { get; init; }

    public required int Sessions { get; init; }

    public required double Rate { get; init; }

    public required int KillAfter { get; init; }

    public required int Agents { get; init; }

    public required double TalkSeconds { get; init; }

    public required double OfferTimeoutSeconds { get; init; }

    public required int SettleSeconds { get; init; }

    public required int DeadlineSeconds { get; init; }

    public required string RunId { get; init; }

    /// <summary>Where the clients' events go, one line each (null: nowhere).</summary>
    public string? Trace { get; init; }

    /// <summary>Every silo, site A's first: the order gateways and desktops try them in.</summary>
    public IReadOnlyList<Uri> AllSilos => [.. SiteA, .. SiteB];

    public static TakeoverOptions Parse(IReadOnlyList<string> args) => Parse(new CommandLine(args));

    /// <summary>The name of every option the command reads (without the leading <c>--</c>).</summary>
    public static IReadOnlyCollection<string> OptionNames()
    {
        var line = new CommandLine(["--site-a", "http://127.0.0.1:1", "--site-b", "http://127.0.0.1:2", "--control", "."]);
        _ = Parse(line);
        return line.Read;
    }

    private static TakeoverOptions Parse(CommandLine line)
    {
        var options = new TakeoverOptions
        {
            SiteA = Targets(line.OptionalText("site-a"), "site-a"),
            SiteB = Targets(line.OptionalText("site-b"), "site-b"),
            Control = line.OptionalText("control") ?? throw new ArgumentException("--control DIR is required."),
            Sessions = line.Int("sessions", 200, 1, 100_000),
            Rate = line.Double("rate", 20, 0.1, 1_000),
            KillAfter = line.Int("kill-after", 120, 1, 100_000),
            Agents = line.Int("agents", 8, 1, 1_000),
            TalkSeconds = line.Double("talk-s", 1, 0, 600),
            OfferTimeoutSeconds = line.Double("offer-timeout-s", 30, 1, 3_600),
            SettleSeconds = line.Int("settle-s", 90, 5, 3_600),
            DeadlineSeconds = line.Int("deadline-s", 300, 10, 3_600),
            RunId = LoadOptions.ParseRunId(line.OptionalText("run-id")),
            Trace = line.OptionalText("trace"),
        };
        line.RejectUnknown();
        if (options.KillAfter > options.Sessions)
        {
            throw new ArgumentException($"--kill-after ({options.KillAfter}) is more than --sessions ({options.Sessions}): site A would never be lost.");
        }

        return options;
    }

    private static Uri[] Targets(string? text, string option)
    {
        var targets = (text ?? throw new ArgumentException($"--{option} URL,URL,... is required."))
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(LoadOptions.ParseTarget)
            .ToArray();
        return targets.Length > 0 ? targets : throw new ArgumentException($"--{option} is empty.");
    }

    public const string Usage = """
        site-takeover --site-a URL,URL --site-b URL,URL --control DIR [options]
            The client side of a backup-site takeover drill (scripts/drill.sh runs it). Gateways and agent
            desktops are given every silo of both sites, site A's first, and fail over between them by
            themselves. It sets up a queue and --agents agents (voice, capacity 1) through site A, signs the
            desktops in, and creates sessions one after another at --rate per second, each with its own
            idempotency key; the agents accept their offers and end each session after --talk-s seconds, so a
            line of waiting sessions builds up. Once --kill-after creates were acknowledged it writes
            DIR/kill-point and goes on creating until DIR/killed appears (the script writes the kill's time there,
            in Unix milliseconds), then stops creating. Requests that site A's loss cut off are tried again on the
            other silos until they are answered (creates with the same key). It then waits, at most --settle-s
            seconds after the kill, until every acknowledged session that site B holds has left the queue, reads
            every acknowledged session back from site B, and prints last:
              DRILL acknowledged=<n> found=<n> lost=<n> double_assigned=<n> killed_at_ms=<n> served_at_ms=<n> ...
            from its own records: acknowledged = creates answered 2xx; found = of those, sessions site B answers
            GET /v1/sessions/{id} for; double_assigned = sessions accepted (answered 200) by two different agents,
            over both sites; served_at_ms = the first accept answered after the kill (-1: none). Then the figures
            behind them: accepts and ends acknowledged before the kill that site B does not show, and the order
            in which site B offered the sessions that were waiting when site A was lost (order_inversions: sessions
            that waited while --agents or more created behind them were offered; one dispatch offers at most one
            session per free agent, stamped one after another, so fewer may be the same dispatch).
            Exit code: 0 the drill ran (whatever it found); 2 bad options; 4 the setup failed or the kill never
            came within --deadline-s.
          --sessions N          creates at most (1-100000) [200]
          --rate N              creates per second, one after another (0.1-1000) [20]
          --kill-after N        acknowledged creates before DIR/kill-point is written (at most --sessions) [120]
          --agents N            agents, each with a desktop (1-1000) [8]
          --talk-s N            how long an agent talks before it ends a session, seconds (0-600) [1]
          --offer-timeout-s N   the queue's offer timeout, seconds: longer than the takeover, so that offers
                                made before it are still there for the desktops that come back. An offer the
                                loss tore (the agent's reservation written, the session's offer not) holds its
                                agent and its session until then (1-3600) [30]
          --settle-s N          after the kill, how long to wait for site B to serve the waiting line (5-3600) [90]
          --deadline-s N        the whole run at most, seconds (10-3600) [300]
          --run-id ID           prefix of the queue, agent ids and idempotency keys [a fresh 8-character id]
          --trace FILE          write every event the clients saw to FILE, one line each (time in Unix ms)
        """;
}
