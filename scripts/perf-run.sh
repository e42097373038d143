#!/usr/bin/env bash
# Measured load runs (the highest sustainable rate, the cost per lifecycle, the cost of live statistics): starts the hosts, runs the load driver against
# them, and stops everything it started. Loopback only. Wrap it in the shared measurement lock so that runs on one
# machine do not overlap:
#
#   flock /tmp/rc-measure.lock scripts/perf-run.sh CONFIG [load driver options...]
#
# CONFIG:
#   memory       one silo, memory storage
#   postgres     one silo, Storage:Provider=postgres and Clustering:Provider=postgres on a throwaway PostgreSQL
#                (scripts/pg.sh); the driver reads pg_stat_user_tables (--pg-stats)
#   postgres3    three silos on this host, same database; the driver spreads sessions and agents (--targets)
#   stats-onoff  one silo, memory storage, twice back to back with the same build and driver options: first with
#                --Stats:Enabled=true, then with --Stats:Enabled=false
#   stats-offon  the same in the other order (off first)
#   pg-tuning    one silo on PostgreSQL three times back to back: with the silo's Npgsql settings (auto-prepare, no
#                reset on close), with Npgsql's defaults, and with the silo's settings again
#   ab           one silo, memory storage, three legs back to back (A, B, A again) with the same build and driver
#                options: host options $PERF_A for A and $PERF_B for B (e.g. PERF_B=--Telemetry:Dashboard=false), and
#                environment variables of the host $PERF_A_ENV and $PERF_B_ENV (e.g.
#                PERF_B_ENV=DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0), and for B another build of the host
#                $PERF_B_HOST_DLL (e.g. a ReadyToRun publish), to read what a setting costs as a ratio of one run;
#                PERF_A_DRIVER_DLL and PERF_B_DRIVER_DLL run another build of the load driver in that leg (e.g. a publish
#                of an earlier commit), to compare the driver's own CPU with the same host
#
# The driver options are passed through (e.g. --step-from 25 --step-by 25 --step-s 15 --agents auto ...); the
# script adds --targets, --run-id, --out and, with PostgreSQL, --pg-stats. Per leg it prints `uptime` before and
# after, the CPU seconds of the silos and of PostgreSQL (from /proc), and the driver's RESULT line; everything goes
# to $PERF_OUT/perf-<config>-<time>.log as well.
#
# Environment: PERF_HTTP_BASE (5100), PERF_SILO_BASE (11200), PERF_GATEWAY_BASE (30200): silo i (0, 1, 2) listens
# on base+i; PERF_PG_DIR (/tmp/rc-perf-pg, at most 80 characters), PERF_OUT (loadtests/results/perf),
# PERF_NO_BUILD=1 (use the Release build as it is), PERF_HOST_DLL (another build of the host for every leg, e.g. a
# `dotnet publish` of an earlier commit, to compare two builds with one command back to back), PERF_IDLE_S (10: seconds of idle CPU measured before the run), PERF_HOST_ARGS (more host options, e.g. --Stats:Enabled=false),
# PERF_READY_TIMEOUT (120 s per silo), PERF_PG_STATEMENTS=1 (PostgreSQL with pg_stat_statements: at the end of a leg the
# statements by calls, with rows and time, go to $PERF_OUT/pg-statements-<run id>.txt), PERF_CONN_SUFFIX (appended to
# the silos' connection string, e.g. ";Max Auto Prepare=0;No Reset On Close=false" for Npgsql's defaults),
# PERF_TRACE_S=N (dotnet-trace, sampled thread time, of silo 0 for N seconds, PERF_TRACE_DELAY_S (20) after the driver
# starts; written to $PERF_OUT/trace-<run id>.nettrace, read with `dotnet-trace report FILE topN -n 60`),
# PERF_RSS_EVERY_S=N (every N seconds from the driver's start, each silo's resident set in MiB, from /proc, to
# $PERF_OUT/rss-<run id>.tsv: the working set over a soak).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROJECT="$ROOT/silo-host/RoutingCluster.SiloHost"
HOST_DLL=${PERF_HOST_DLL:-$PROJECT/bin/Release/net10.0/RoutingCluster.SiloHost.dll}
DRIVER_DLL="$ROOT/loadtests/RoutingCluster.LoadTests/bin/Release/net10.0/RoutingCluster.LoadTests.dll"
HTTP_BASE=${PERF_HTTP_BASE:-5100}
SILO_BASE=${PERF_SILO_BASE:-11200}
GATEWAY_BASE=${PERF_GATEWAY_BASE:-30200}
PG_DIR=${PERF_PG_DIR:-/tmp/rc-perf-pg}
PG_PORT=${PERF_PG_PORT:-55100}
OUT=${PERF_OUT:-$ROOT/loadtests/results/perf}
READY_TIMEOUT=${PERF_READY_TIMEOUT:-120}
TICKS=$(getconf CLK_TCK)

die() { echo "perf-run.sh: $*" >&2; exit 1; }
log() { echo "perf-run.sh: $*" | tee -a "$LOG" >&2; }
usage() { die "usage: $0 memory|postgres|postgres3|stats-onoff|stats-offon|pg-tuning|ab [load driver options...]"; }

[[ $# -ge 1 ]] || usage
CONFIG=$1; shift
case "$CONFIG" in memory|postgres|postgres3|stats-onoff|stats-offon|pg-tuning|ab) ;; *) usage ;; esac
DRIVER_ARGS=("$@")

mkdir -p "$OUT"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
LOG="$OUT/perf-$CONFIG-$STAMP.log"
PIDS=()
DEV_SIGNING_KEY=$(head -c 32 /dev/urandom | base64)
PSEUDONYM_KEY=$(head -c 32 /dev/urandom | base64)
PG_STARTED=0

# CPU seconds (user + system) of processes, from /proc/PID/stat (one awk for all: this machine is often loaded).
# With reaped=1, the first process's reaped children count too (PostgreSQL's postmaster and its exited backends).
cpu_of() {
  local reaped=$1; shift
  [[ $# -gt 0 ]] || { echo 0; return; }
  { for pid in "$@"; do cat "/proc/$pid/stat" 2>/dev/null || true; done; } |
    awk -v t="$TICKS" -v reaped="$reaped" '{ sub(/^.*\) /, ""); s += $12 + $13; if (NR == 1 && reaped) s += $14 + $15 } END { printf "%.2f", s / t }'
}

pg_cpu() {
  local pm
  pm=$(head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  # shellcheck disable=SC2046
  cpu_of 1 "$pm" $(ps -o pid= --ppid "$pm")
}

hosts_cpu() { cpu_of 0 "${PIDS[@]}"; }

# A statement against the throwaway server's `routing` database, as psql prints it aligned.
pg_sql() { psql -h 127.0.0.1 -p "$(cat "$PG_DIR/port")" -U postgres -d routing -X -c "$1"; }

stop_all() {
  local pid waited
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    waited=0
    while kill -0 "$pid" 2>/dev/null && (( waited < 450 )); do sleep 0.1; waited=$((waited + 1)); done
    kill -KILL "$pid" 2>/dev/null || true
  done
  PIDS=()
  if [[ $PG_STARTED -eq 1 ]]; then
    "$ROOT/scripts/pg.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
    PG_STARTED=0
  fi
}
trap stop_all EXIT

if [[ "${PERF_NO_BUILD:-}" != 1 ]]; then
  log "building the silo host and the load driver (Release)"
  dotnet build "$PROJECT" -c Release -nologo -v q >>"$LOG" 2>&1 || die "host build failed; see $LOG"
  dotnet build "$ROOT/loadtests/RoutingCluster.LoadTests" -c Release -nologo -v q >>"$LOG" 2>&1 || die "driver build failed; see $LOG"
fi
[[ -f "$HOST_DLL" && -f "$DRIVER_DLL" ]] || die "the Release build is missing (run without PERF_NO_BUILD)"
for dll in "${PERF_A_DRIVER_DLL:-}" "${PERF_B_DRIVER_DLL:-}"; do
  [[ -z "$dll" || -f "$dll" ]] || die "no driver build at $dll"
done

# leg NAME SILOS STORAGE [host options...]: starts the silos (and PostgreSQL), runs the driver, stops them.
leg() {
  local name=$1 silos=$2 storage=$3; shift 3
  local host_args=("$@") conn="" i targets="" code start cpu0 pg0 cpu1 pg1 t0 t1 run_id extra=()
  if [[ "$storage" == postgres ]]; then
    [[ ! -e "$PG_DIR" ]] || die "$PG_DIR exists (a PostgreSQL left over? 'scripts/pg.sh stop $PG_DIR')"
    local pg_opts=""
    [[ "${PERF_PG_STATEMENTS:-}" != 1 ]] || pg_opts="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
    conn=$(PG_PORT=$PG_PORT PG_SERVER_OPTS="$pg_opts" "$ROOT/scripts/pg.sh" start "$PG_DIR" 2>>"$LOG" | tail -n 1) || die "scripts/pg.sh start failed; see $LOG"
    PG_STARTED=1
    conn+="${PERF_CONN_SUFFIX:-}${LEG_CONN_SUFFIX:-}"
    [[ -z "$pg_opts" ]] || pg_sql "CREATE EXTENSION pg_stat_statements" >>"$LOG" 2>&1
    log "PostgreSQL: $conn"
    host_args+=(--Storage:Provider=postgres --Clustering:Provider=postgres)
    extra=(--pg-stats "$conn")
  fi
  # Dev-mode tokens: the silos share one key (the driver asks each silo's POST /auth/dev-token for its tokens). The
  # driver is one gateway standing for all of a bank's, so the per-gateway bucket is lifted above any rate it drives;
  # PERF_HOST_ARGS may set it back (--RateLimits:Gateway:PerSecond=200 ...) to measure the limiter refusing.
  host_args+=(--Auth:Dev:SigningKey="$DEV_SIGNING_KEY" --RateLimits:Gateway:PerSecond=1000000 --RateLimits:Gateway:Burst=1000000)
  # One pseudonym key for every silo: a create retried on another silo must find the same keyed fingerprint.
  host_args+=(--Privacy:PseudonymKey="$PSEUDONYM_KEY")
  # shellcheck disable=SC2206
  host_args+=(${PERF_HOST_ARGS:-})
  for i in $(seq 0 $((silos - 1))); do
    (
      cd "$PROJECT"
      export ConnectionStrings__Routing="$conn"
      # shellcheck disable=SC2086
      exec setsid env ${LEG_ENV:-} dotnet "${LEG_HOST_DLL:-$HOST_DLL}" --urls "http://127.0.0.1:$((HTTP_BASE + i))" \
        --Orleans:SiloPort=$((SILO_BASE + i)) --Orleans:GatewayPort=$((GATEWAY_BASE + i)) "${host_args[@]}" \
        </dev/null >>"$OUT/perf-$CONFIG-$STAMP-$name-silo$i.log" 2>&1
    ) &
    PIDS+=($!)
    targets+="${targets:+,}http://127.0.0.1:$((HTTP_BASE + i))"
  done
  start=$(date +%s)
  for i in $(seq 0 $((silos - 1))); do
    while :; do
      code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$((HTTP_BASE + i))/health/ready" || true)
      [[ "$code" == 200 ]] && break
      kill -0 "${PIDS[$i]}" 2>/dev/null || die "silo $i exited; see $OUT/perf-$CONFIG-$STAMP-$name-silo$i.log"
      (( $(date +%s) - start < READY_TIMEOUT )) || die "silo $i not ready after ${READY_TIMEOUT}s"
      sleep 0.5
    done
  done
  log "leg $name: $silos silo(s), storage $storage, host options: ${host_args[*]}; driver ${LEG_DRIVER_DLL:-$DRIVER_DLL}; pids ${PIDS[*]}; ready in $(( $(date +%s) - start )) s"
  run_id="p-$name-$(date -u +%H%M%S)"
  # What the silos burn with nothing to do (timers, stream pulling agents, statistics flushes), before any agent.
  cpu0=$(hosts_cpu); pg0=$(pg_cpu); sleep "${PERF_IDLE_S:-10}"; cpu1=$(hosts_cpu); pg1=$(pg_cpu)
  log "leg $name: idle for ${PERF_IDLE_S:-10} s: CPU of the silos $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.2f", b - a }') s, of PostgreSQL $(awk -v a="$pg0" -v b="$pg1" 'BEGIN { printf "%.2f", b - a }') s"
  log "uptime before: $(uptime)"
  cpu0=$(hosts_cpu); pg0=$(pg_cpu); t0=$(date +%s.%N)
  if [[ -n "${PERF_TRACE_S:-}" ]]; then
    ( sleep "${PERF_TRACE_DELAY_S:-20}"
      "${DOTNET_TRACE:-$HOME/.dotnet/tools/dotnet-trace}" collect -p "${PIDS[0]}" --profile dotnet-sampled-thread-time \
        --duration "00:00:$(printf '%02d' "$PERF_TRACE_S")" -o "$OUT/trace-$run_id.nettrace" >>"$LOG" 2>&1 ) &
  fi
  local sampler=""
  if [[ -n "${PERF_RSS_EVERY_S:-}" ]]; then
    ( local pid line; printf 'elapsed_s' ; for i in "${!PIDS[@]}"; do printf '\tsilo%d_rss_mib' "$i"; done; echo
      while sleep "$PERF_RSS_EVERY_S"; do
        line=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
        for pid in "${PIDS[@]}"; do
          line+=$'\t'$(awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null || echo -)
        done
        echo "$line"
      done ) >"$OUT/rss-$run_id.tsv" &
    sampler=$!
  fi
  set +e
  dotnet "${LEG_DRIVER_DLL:-$DRIVER_DLL}" --targets "$targets" --run-id "$run_id" --out "$OUT" "${extra[@]}" "${DRIVER_ARGS[@]}" 2>&1 | tee -a "$LOG"
  code=${PIPESTATUS[0]}
  set -e
  [[ -z "$sampler" ]] || { kill "$sampler" 2>/dev/null || true; log "leg $name: resident sets in $OUT/rss-$run_id.tsv"; }
  t1=$(date +%s.%N); cpu1=$(hosts_cpu); pg1=$(pg_cpu)
  log "uptime after: $(uptime)"
  log "leg $name: driver exit code $code; wall $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s (set-up, steps, checks);" \
      "CPU of the silos $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.1f", b - a }') s, of PostgreSQL $(awk -v a="$pg0" -v b="$pg1" 'BEGIN { printf "%.1f", b - a }') s"
  log "leg $name: report $OUT/load-$run_id.md"
  if [[ "$storage" == postgres && "${PERF_PG_STATEMENTS:-}" == 1 ]]; then
    pg_sql "SELECT calls, rows, round(total_exec_time::numeric, 1) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
              regexp_replace(left(query, 160), '\s+', ' ', 'g') AS query
            FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'routing')
            ORDER BY calls DESC LIMIT 40" >"$OUT/pg-statements-$run_id.txt" 2>&1 || true
    log "leg $name: statements by calls in $OUT/pg-statements-$run_id.txt"
  fi
  stop_all
}

log "config $CONFIG, host $HOST_DLL, driver options: $*"
case "$CONFIG" in
  memory) leg memory 1 memory ;;
  postgres) leg postgres 1 postgres ;;
  postgres3) leg postgres3 3 postgres ;;
  stats-onoff)
    leg stats-on 1 memory --Stats:Enabled=true
    leg stats-off 1 memory --Stats:Enabled=false
    ;;
  stats-offon)
    leg stats-off 1 memory --Stats:Enabled=false
    leg stats-on 1 memory --Stats:Enabled=true
    ;;
  pg-tuning)
    leg pg-tuned 1 postgres
    LEG_CONN_SUFFIX=";Max Auto Prepare=0;No Reset On Close=false" leg pg-defaults 1 postgres
    leg pg-tuned-again 1 postgres
    ;;
  ab)
    # shellcheck disable=SC2086
    LEG_ENV=${PERF_A_ENV:-} LEG_DRIVER_DLL=${PERF_A_DRIVER_DLL:-} leg a 1 memory ${PERF_A:-}
    # shellcheck disable=SC2086
    LEG_ENV=${PERF_B_ENV:-} LEG_HOST_DLL=${PERF_B_HOST_DLL:-} LEG_DRIVER_DLL=${PERF_B_DRIVER_DLL:-} leg b 1 memory ${PERF_B:-}
    # shellcheck disable=SC2086
    LEG_ENV=${PERF_A_ENV:-} LEG_DRIVER_DLL=${PERF_A_DRIVER_DLL:-} leg a-again 1 memory ${PERF_A:-}
    ;;
esac
log "done; log $LOG"
