using RoutingCluster.LoadTests;

// Commands of the load driver. Each runs against a host started separately, on loopback only.
return args switch
{
    ["offer-latency", .. var rest] => await OfferLatency.RunAsync(rest),
    [] or ["help" or "--help" or "-h", ..] => Usage(0),
    _ => Usage(2),
};

static int Usage(int exitCode)
{
    var text = """
        RoutingCluster load driver

        Commands:
          offer-latency --target http://127.0.0.1:5000 --sessions 1000 --agents 50 [--queue lat]
                        [--rate 0] [--warmup 0] [--max-seconds 120] [--out results.md]
              Sets up a queue (wrap-up 0 s) and N agents over HTTP, signs N agent desktops in over SignalR
              (ready), then creates sessions and measures, for each one, the time from just before
              POST /v1/sessions to the moment its offer reaches the agent's desktop. Each agent accepts, ends
              and finishes wrap-up at once. --rate 0 (the default) creates one session at a time, the next
              after the previous offer arrived; --rate R creates R sessions per second (open loop).
              Reports count, p50, p90, p99 and max in ms, as a markdown table row.
        """;
    (exitCode == 0 ? Console.Out : Console.Error).WriteLine(text);
    return exitCode;
}
