#!/usr/bin/env bash
# The overload curve: one silo (memory storage) driven by the load driver at multiples of its sustainable rate, with
# admission of new sessions off ("before": every create is taken) and on ("after"), one fresh silo per point
# (scripts/perf-run.sh memory). Loopback only, bounded in time (points x (set-up + --duration-s + drain)).
#
#   scripts/overload-curve.sh SUSTAINABLE [FACTORS] [OUT]
#
# SUSTAINABLE  the silo's highest sustainable rate on this machine, sessions/s (measure it first with the driver's step
#              mode: scripts/perf-run.sh memory --step-from 50 --step-by 25 --step-s 15 --agents auto)
# FACTORS      offered load as multiples of it, space-separated ["0.5 1 1.5 2 3 4"]
# OUT          where the results go [loadtests/results/curve-<UTC time>]: curve.tsv (one row per point:
#              admission, factor, offered/s, created, refused, completed, completed in time, goodput/s, p99 create
#              -> offer ms of the admitted, refused share, errors, lost, double assigned, 1-minute load average at the
#              start), curve.svg (goodput, p99 and share refused
#              against offered load, admission off and on), and each point's perf-run log and load report.
#
# Goodput is the work done in time: sessions completed whose offer reached the agent's desktop within CURVE_IN_TIME_MS
# (1000) of the customer's arrival, per second of arrivals after the warm-up. A session served later still counts as
# completed, not as goodput: past a second the customer is waiting, not being served.
#
# Environment: CURVE_DURATION_S (20: seconds of arrivals per point), CURVE_WARMUP_S (5: the fresh silo's first seconds,
# left out of the latency and the goodput, still checked), CURVE_IN_TIME_MS (1000), CURVE_TALK_S (3), CURVE_WRAP_UP_S (1),
# CURVE_DRAIN_S (30), CURVE_MODES ("off on"), CURVE_RENDER_ONLY=1 (draw OUT/curve.tsv again, run nothing). Run it alone on the machine (it holds /tmp/rc-measure.lock per point).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ $# -ge 1 ]] || { echo "usage: $0 SUSTAINABLE [FACTORS] [OUT]" >&2; exit 2; }
SUSTAINABLE=$1
FACTORS=${2:-"0.5 1 1.5 2 3 4"}
OUT=${3:-"$ROOT/loadtests/results/curve-$(date -u +%Y%m%dT%H%M%SZ)"}
DURATION=${CURVE_DURATION_S:-20}
TALK=${CURVE_TALK_S:-3}
WRAP=${CURVE_WRAP_UP_S:-1}
DRAIN=${CURVE_DRAIN_S:-30}
WARMUP=${CURVE_WARMUP_S:-5}
IN_TIME_MS=${CURVE_IN_TIME_MS:-1000}
MODES=${CURVE_MODES:-"off on"}
mkdir -p "$OUT"
TSV="$OUT/curve.tsv"

# Enough agents for the highest offered rate (each busy for talk + wrap-up + the accept), with room to spare, so that
# what limits the silo is the silo, not the agents.
max_factor=$(tr ' ' '\n' <<<"$FACTORS" | sort -g | tail -n 1)
AGENTS=$(awk -v s="$SUSTAINABLE" -v f="$max_factor" -v t="$TALK" -v w="$WRAP" 'BEGIN { a = int(s * f * (t + w + 0.5) * 1.5) + 10; print (a > 20000 ? 20000 : a) }')

if [[ "${CURVE_RENDER_ONLY:-}" != 1 ]]; then
printf 'admission\tfactor\toffered_per_s\tcreated\trefused\tcompleted\tcompleted_in_time\tgoodput_per_s\tp99_offer_ms\trefused_share\terrors\tlost\tdouble_assigned\tload_avg\n' >"$TSV"
PERF_NO_BUILD=0
for mode in $MODES; do
  enabled=$([[ "$mode" == on ]] && echo true || echo false)
  for factor in $FACTORS; do
    rate=$(awk -v s="$SUSTAINABLE" -v f="$factor" 'BEGIN { printf "%.2f", s * f }')
    echo "overload-curve: admission $mode, ${factor}x = $rate sessions/s, $AGENTS agents, $DURATION s" >&2
    log="$OUT/point-$mode-$factor.log"
    PERF_OUT="$OUT" PERF_NO_BUILD=$PERF_NO_BUILD PERF_HOST_ARGS="--Admission:Enabled=$enabled" \
      flock /tmp/rc-measure.lock "$ROOT/scripts/perf-run.sh" memory --rate "$rate" --duration-s "$DURATION" --agents "$AGENTS" \
      --talk-s "$TALK" --wrap-up-s "$WRAP" --drain-s "$DRAIN" --warmup-s "$WARMUP" --in-time-ms "$IN_TIME_MS" --seed 7 >"$log" 2>&1 || true
    PERF_NO_BUILD=1
    result=$(grep '^RESULT ' "$log" | tail -n 1 || true)
    if [[ -z "$result" ]]; then
      echo "overload-curve: no RESULT line for admission $mode at ${factor}x; see $log" >&2
      continue
    fi
    load=$(sed -n 's/.*uptime before:.*load average: \([0-9.]*\),.*/\1/p' "$log" | head -n 1)
    awk -v mode="$mode" -v factor="$factor" -v rate="$rate" -v d="$DURATION" -v w="$WARMUP" -v load="${load:-?}" '
      { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
      END {
        created = v["created"] + 0; refused = v["refused_overload"] + 0; done = v["completed"] + 0; in_time = v["completed_in_time"] + 0
        share = (created + refused) > 0 ? refused / (created + refused) : 0
        printf "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%.2f\t%s\t%.4f\t%s\t%s\t%s\t%s\n", mode, factor, rate, created, refused, done, in_time,
          in_time / (d - w), v["p99_offer_ms"], share, v["errors"], v["lost"], v["double_assigned"], load
      }' <<<"$result" >>"$TSV"
  done
done

fi

# The chart: three panels against offered load (x: multiples of the sustainable rate): goodput (completed lifecycles/s),
# p99 create -> offer of the admitted (log scale), share of creates refused; admission off in red, on in blue.
awk -F '\t' -v sustainable="$SUSTAINABLE" -v in_time_ms="$IN_TIME_MS" '
  NR == 1 { next }
  { n++; mode[n] = $1; x[n] = $2 + 0; good[n] = $8 + 0; p99[n] = ($9 + 0 > 0 ? $9 + 0 : 1); share[n] = $10 + 0
    if (x[n] > xmax) xmax = x[n]; if (good[n] > gmax) gmax = good[n]; if (p99[n] > pmax) pmax = p99[n] }
  function px(v) { return left + v / xmax * width }
  function panel(i, title, unit) {
    left = 60 + i * 330; top = 40; width = 260; height = 200
    printf "<g font-family=\"sans-serif\" font-size=\"11\"><text x=\"%d\" y=\"24\" font-size=\"13\" font-weight=\"bold\">%s</text>\n", left, title
    printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", left, top, width, height
    for (t = 0; t <= xmax; t += (xmax > 2 ? 1 : 0.5)) printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%gx</text>\n", px(t), top + height + 14, t
    printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">offered load (x %s/s sustainable)</text>\n", left + width / 2, top + height + 30, sustainable
    printf "<text x=\"%d\" y=\"%d\" transform=\"rotate(-90 %d %d)\" text-anchor=\"middle\">%s</text></g>\n", left - 42, top + height / 2, left - 42, top + height / 2, unit
  }
  function ytick(y, label) {
    printf "<g font-family=\"sans-serif\" font-size=\"10\"><line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>", left, left + width, y, y
    printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text></g>\n", left - 4, y + 3, label
  }
  function series(which, m, colour,   pts, i, y) {
    pts = ""
    for (i = 1; i <= n; i++) if (mode[i] == m) {
      if (which == 1) y = top + height - good[i] / (gmax > 0 ? gmax : 1) * height
      else if (which == 2) y = top + height - log(p99[i]) / log(pmax > 10 ? pmax : 10) * height
      else y = top + height - share[i] * height
      pts = pts sprintf("%.1f,%.1f ", px(x[i]), y)
      printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px(x[i]), y, colour
    }
    if (pts != "") printf "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", pts, colour
  }
  END {
    print "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1040\" height=\"320\" viewBox=\"0 0 1040 320\">"
    print "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"
    panel(0, "Goodput (offered within " in_time_ms " ms)", "completed lifecycles/s"); for (k = 0; k <= 4; k++) ytick(top + height - k / 4 * height, sprintf("%.0f", gmax * k / 4)); series(1, "off", "#c0392b"); series(1, "on", "#2471a3")
    panel(1, "p99 create -> offer (admitted)", "ms, log scale"); top10 = log(pmax > 10 ? pmax : 10)
    for (k = 1; exp(k * log(10)) <= (pmax > 10 ? pmax : 10) * 1.0001; k++) ytick(top + height - k * log(10) / top10 * height, sprintf("%g", exp(k * log(10))))
    series(2, "off", "#c0392b"); series(2, "on", "#2471a3")
    panel(2, "Creates refused (503/429)", "share of creates"); for (k = 0; k <= 4; k++) ytick(top + height - k / 4 * height, sprintf("%d%%", k * 25)); series(3, "off", "#c0392b"); series(3, "on", "#2471a3")
    print "<g font-family=\"sans-serif\" font-size=\"12\"><rect x=\"60\" y=\"292\" width=\"12\" height=\"12\" fill=\"#c0392b\"/><text x=\"78\" y=\"302\">admission off (every create taken)</text>"
    print "<rect x=\"330\" y=\"292\" width=\"12\" height=\"12\" fill=\"#2471a3\"/><text x=\"348\" y=\"302\">admission on</text></g>"
    print "</svg>"
  }' "$TSV" >"$OUT/curve.svg"
echo "overload-curve: $TSV and $OUT/curve.svg" >&2
column -t -s $'\t' "$TSV"
