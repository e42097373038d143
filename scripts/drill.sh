#!/usr/bin/env bash
# A backup-site takeover drill on one machine, loopback only (docs/operations.md, "Losing a site").
#
#   scripts/drill.sh [--mode sync|async] [options]
#
# Site A: a primary PostgreSQL (scripts/pg.sh) and two silos on it. Site B: a streaming standby of A's database
# (pg_basebackup -R through scripts/pg.sh standby), synchronous (A names it in synchronous_standby_names, and commits
# wait for it: synchronous_commit=on, or remote_apply with --sync-commit) or asynchronous (commits wait for A's own WAL
# only: synchronous_commit=on, no synchronous standby). The load driver's site-takeover command
# (loadtests/RoutingCluster.LoadTests) plays the gateways and agent desktops, each given the silos of both sites: it
# creates sessions one after another and its agents serve them, slower than they come, so a line builds up. Once
# --kill-after creates were acknowledged, site A is killed with SIGKILL, both silos and every PostgreSQL process of the
# primary in one kill(1); B's database is promoted (pg_ctl promote); with --membership mark-dead (the default) site A's
# silos are marked dead in B's membership table; site B's two silos start on B's database, one after the other (same
# cluster and service id: they read the sessions' state). The clients fail over to them by themselves. The last line on stdout is:
#
#   RESULT mode=<sync|async> acknowledged=<n> found=<n> lost=<n> double_assigned=<n> ready_after_s=<x> served_after_s=<x>
#
# from the clients' own records: acknowledged = creates answered 2xx; found = of those, the sessions site B answers
# GET /v1/sessions/{id} for after the takeover; lost = acknowledged - found; double_assigned = sessions accepted
# (answered 200) by two different agents over both sites; ready_after_s = from the kill to the first of B's silos
# answering 200 on /health/ready; served_after_s = from the kill to the first accept a silo of B answered (inf: none).
# The line before it (DRILL ...) has the figures behind them: accepts and ends acknowledged before the kill that B does
# not show, how many sessions were waiting at the kill and whether B offered them in their order (order_inversions).
# The line before that (WAL ...) says what A's WAL files hold after the last record B replayed: the commits B never got
# (a_commits_after), acknowledged to a client or not (a silo killed before it answered).
#
# Options:
#   --mode sync|async            the standby's replication [sync]
#   --sync-commit on|remote_apply  what a commit on A waits for in sync mode: the standby's flush (on) or its replay [on]
#   --membership mark-dead|probe how B's silos get past A's silos in the membership table: marked dead by this script
#                                before B starts (the runbook's step), or left to Orleans (B's silos probe them) [mark-dead]
#   --sessions N --rate N --kill-after N --agents N --talk-s N --offer-timeout-s N --settle-s N
#                                the driver's (site-takeover --help) [300, 20, 200, 8, 1, 30, 90]
#   --no-build                   use the Release build as it is (silo host and load driver)
#
# State in .drill/ at the repository root (git-ignored): pg-a/ and pg-b/ (the two servers, removed at the end),
# a1.log a2.log b1.log b2.log (the silos' console logs), driver.log, build.log, kept after the run. Everything the drill
# started is stopped when it ends, however it ends. PostgreSQL runs as scripts/pg.sh runs it, with fsync off: the drill
# kills processes, which loses nothing the kernel was given; a power loss would need fsync on.
#
# Exit code: 0 the drill ran (in sync mode: nothing acknowledged lost, nothing assigned twice); 1 it ran, and in sync
# mode something acknowledged was lost or assigned twice; 2 bad options; 3 it could not run to the end (no RESULT line).
# Environment: DRILL_READY_TIMEOUT (120 s per silo).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/local.sh
source "$ROOT/scripts/lib/local.sh"
STATE="$ROOT/.drill"
PG="$ROOT/scripts/pg.sh"
DRIVER_PROJECT="$ROOT/loadtests/RoutingCluster.LoadTests"
DRIVER_DLL="$DRIVER_PROJECT/bin/Release/net10.0/RoutingCluster.LoadTests.dll"
READY_TIMEOUT=${DRILL_READY_TIMEOUT:-120}
STANDBY=siteb

T0=$(date +%s%3N)
die() { echo "drill.sh: $*" >&2; exit 3; }
# Progress on stderr, with the seconds since the drill began.
log() { echo "drill.sh: [$(awk -v a="$T0" -v b="$(date +%s%3N)" 'BEGIN { printf "%6.1f", (b - a) / 1000 }') s] $*" >&2; }
usage() { echo "usage: $0 [--mode sync|async] [--sync-commit on|remote_apply] [--membership mark-dead|probe] [--sessions N] [--rate N] [--kill-after N] [--agents N] [--talk-s N] [--offer-timeout-s N] [--settle-s N] [--no-build]" >&2; exit 2; }

mode=sync sync_commit=on membership=mark-dead build=1
sessions=300 rate=20 kill_after=200 agents=8 talk=1 settle=90 offer_timeout=30
while [[ $# -gt 0 ]]; do
  case "$1" in
    --mode) mode=${2:-}; shift 2 ;;
    --sync-commit) sync_commit=${2:-}; shift 2 ;;
    --membership) membership=${2:-}; shift 2 ;;
    --sessions) sessions=${2:-}; shift 2 ;;
    --rate) rate=${2:-}; shift 2 ;;
    --kill-after) kill_after=${2:-}; shift 2 ;;
    --agents) agents=${2:-}; shift 2 ;;
    --talk-s) talk=${2:-}; shift 2 ;;
    --settle-s) settle=${2:-}; shift 2 ;;
    --offer-timeout-s) offer_timeout=${2:-}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) usage ;;
  esac
done
[[ "$mode" == sync || "$mode" == async ]] || usage
[[ "$sync_commit" == on || "$sync_commit" == remote_apply ]] || usage
[[ "$membership" == mark-dead || "$membership" == probe ]] || usage
for n in "$sessions" "$kill_after" "$agents" "$settle" "$offer_timeout"; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || usage; done
[[ "$rate" =~ ^[0-9]+(\.[0-9]+)?$ && "$talk" =~ ^[0-9]+(\.[0-9]+)?$ ]] || usage

# One drill at a time per checkout: the state folder is its.
mkdir -p "$STATE"
if [[ -f "$STATE/drill.pid" ]] && kill -0 "$(cat "$STATE/drill.pid")" 2>/dev/null; then
  die "a drill is already running here (pid $(cat "$STATE/drill.pid"))"
fi
echo $$ >"$STATE/drill.pid"
DRIVER_PID=""

cleanup() {
  local name pid
  if [[ -n "$DRIVER_PID" ]]; then kill -KILL "$DRIVER_PID" 2>/dev/null || true; fi
  for name in a1 a2 b1 b2; do
    pid=$(cat "$(silo_pid_file "$STATE" "$name")" 2>/dev/null) || continue
    # Only a silo host: the pid file may be left from a drill that was itself killed, its pid since reused.
    if [[ "$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" == *"$SILO_DLL"* ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$(silo_pid_file "$STATE" "$name")"
  done
  "$PG" stop "$STATE/pg-b" >/dev/null 2>&1 || true
  "$PG" stop "$STATE/pg-a" >/dev/null 2>&1 || true
  rm -rf "$STATE/control" "$STATE/dev-signing-key" "$STATE/drill.pid"
}
trap cleanup EXIT
trap 'exit 3' INT TERM

# What an earlier drill left: its servers (if it was killed itself) and its logs.
cleanup
echo $$ >"$STATE/drill.pid"
rm -f "$STATE"/*.log
mkdir -p "$STATE/control"

if [[ $build -eq 1 ]]; then
  log "building the silo host and the load driver (Release)"
  build_release "$SILO_PROJECT" "$STATE/build.log"
  build_release "$DRIVER_PROJECT" "$STATE/build.log"
fi
[[ -f "$SILO_DLL" && -f "$DRIVER_DLL" ]] || die "the Release build is missing (run without --no-build)"

# --- Site A's database, and site B's standby of it ---
commit=on
[[ "$mode" == async ]] || commit=$sync_commit
CONN_A=$(PG_SERVER_OPTS="-c synchronous_commit=$commit" "$PG" start "$STATE/pg-a" 2>>"$STATE/pg.log" | tail -n 1) \
  || die "scripts/pg.sh start failed; see $STATE/pg.log"
CONN_B=$("$PG" standby "$STATE/pg-b" "$STATE/pg-a" "$STANDBY" 2>>"$STATE/pg.log" | tail -n 1) \
  || die "scripts/pg.sh standby failed; see $STATE/pg.log"
want=async
if [[ "$mode" == sync ]]; then
  # Set once the standby streams: CREATE DATABASE (scripts/pg.sh start) would otherwise wait for a standby not there yet.
  "$PG" sql "$STATE/pg-a" "ALTER SYSTEM SET synchronous_standby_names = '$STANDBY'" >/dev/null
  "$PG" sql "$STATE/pg-a" "SELECT pg_reload_conf()" >/dev/null
  want=sync
fi
for attempt in $(seq 1 100); do
  state=$("$PG" sql "$STATE/pg-a" "SELECT state || ' ' || sync_state FROM pg_stat_replication WHERE application_name = '$STANDBY'")
  [[ "$state" == "streaming $want" ]] && break
  [[ $attempt -lt 100 ]] || die "the standby is not streaming ($want) after 10 s: '$state'"
  sleep 0.1
done
log "site A: PostgreSQL primary on port $(cat "$STATE/pg-a/port") (synchronous_commit=$commit); site B: standby on port $(cat "$STATE/pg-b/port"), $state"

# --- Site A's silos; site B's ports picked now, so that the clients know both sites from the start ---
ports=()
while [[ ${#ports[@]} -lt 12 ]]; do
  p=$(free_port)
  [[ " ${ports[*]} " == *" $p "* ]] || ports+=("$p")
done
url() { echo "http://127.0.0.1:${ports[$(( $1 * 3 ))]}"; }
start_silo() { silo_start "$STATE" "$1" "$2" "${ports[$(( $3 * 3 ))]}" "${ports[$(( $3 * 3 + 1 ))]}" "${ports[$(( $3 * 3 + 2 ))]}"; }

start=$(now_ms)
start_silo a1 "$CONN_A" 0
start_silo a2 "$CONN_A" 1
silo_wait_ready "$STATE" a1 "$(url 0)" "$start" "$READY_TIMEOUT" >&2
silo_wait_ready "$STATE" a2 "$(url 1)" "$start" "$READY_TIMEOUT" >&2
log "site A ready"

# --- The clients ---
sessions_s=$(awk -v n="$sessions" -v r="$rate" 'BEGIN { printf "%d", n / r + 1 }')
dotnet "$DRIVER_DLL" site-takeover --site-a "$(url 0),$(url 1)" --site-b "$(url 2),$(url 3)" --control "$STATE/control" \
  --sessions "$sessions" --rate "$rate" --kill-after "$kill_after" --agents "$agents" --talk-s "$talk" \
  --offer-timeout-s "$offer_timeout" --settle-s "$settle" --deadline-s $(( 120 + sessions_s + settle )) --run-id "drill-$(date +%H%M%S)" --trace "$STATE/trace.log" \
  </dev/null >"$STATE/driver.log" 2>&1 &
DRIVER_PID=$!
log "clients started (pid $DRIVER_PID, log $STATE/driver.log)"
waited=0
until [[ -f "$STATE/control/kill-point" ]]; do
  kill -0 "$DRIVER_PID" 2>/dev/null || { tail -n 20 "$STATE/driver.log" >&2; die "the clients ended before the kill point; see $STATE/driver.log"; }
  (( waited < (120 + sessions_s) * 20 )) || die "no kill point after $(( 120 + sessions_s )) s; see $STATE/driver.log"
  sleep 0.05; waited=$((waited + 1))
done

# --- Site A is lost: both silos and every process of its PostgreSQL, in one kill(1) ---
pm=$(head -n 1 "$STATE/pg-a/data/postmaster.pid")
# shellcheck disable=SC2046
victims=($(cat "$(silo_pid_file "$STATE" a1)" "$(silo_pid_file "$STATE" a2)") "$pm" $(ps -o pid= --ppid "$pm"))
kill -KILL "${victims[@]}"
killed=$(now_ms)
printf '%s\n' "$killed" >"$STATE/control/killed.tmp" && mv "$STATE/control/killed.tmp" "$STATE/control/killed"
log "site A killed: SIGKILL to its 2 silos, its postmaster and $(( ${#victims[@]} - 3 )) server processes"

# --- Take over at site B: promote, clear the lost site out of the membership, start the silos ---
"$PG" promote "$STATE/pg-b" 2>>"$STATE/pg.log" || die "promotion failed; see $STATE/pg.log"
log "site B's database promoted, +$(( $(now_ms) - killed )) ms"
if [[ "$membership" == mark-dead ]]; then
  # Every silo in the table is one of site A's (none of site B's has started): status 6 is Dead, and the table's
  # version moves on, as with every membership change (the silos' own changes are checked against it).
  marked=$("$PG" sql "$STATE/pg-b" "WITH dead AS (UPDATE routing_membership SET status = 6 WHERE status <> 6 RETURNING address || ':' || port AS silo),
      bumped AS (UPDATE routing_membership_version SET version = version + 1 RETURNING version)
    SELECT coalesce(string_agg(silo, ' '), 'none') || ', membership version ' || (SELECT max(version) FROM bumped) FROM dead")
  log "site A's silos marked dead in site B's membership table ($marked), +$(( $(now_ms) - killed )) ms"
fi
# One silo first, the second once it is ready: two silos that form a cluster together can each activate the same
# grain for a moment (a queue rebuilding its line twice), and on a small machine the first comes up sooner alone.
start_silo b1 "$CONN_B" 2
silo_wait_ready "$STATE" b1 "$(url 2)" "$killed" "$READY_TIMEOUT" >&2
ready=$(now_ms)
log "site B: first silo ready +$(( ready - killed )) ms after the kill"
start_silo b2 "$CONN_B" 3
silo_wait_ready "$STATE" b2 "$(url 3)" "$killed" "$READY_TIMEOUT" >&2

# What site A had written that site B never got: the commits in A's WAL files (still on disk) after the last record
# B replayed before its promotion. Acknowledged or not: a commit whose silo was killed before it answered counts too.
replayed=$("$PG" sql "$STATE/pg-b" "SELECT pg_last_wal_replay_lsn()")
gap=$("$PG" wal-after "$STATE/pg-a" "$replayed")
log "site A's WAL after the last record site B replayed ($replayed): $gap"

# --- The clients' figures ---
set +e
wait "$DRIVER_PID"
code=$?
set -e
DRIVER_PID=""
grep '^site-takeover: ' "$STATE/driver.log" | sed 's/^/  /' >&2 || true
drill=$(tail -n 1 "$STATE/driver.log")
[[ $code -eq 0 && "$drill" == "DRILL "* ]] || { tail -n 20 "$STATE/driver.log" >&2; die "the clients failed (exit code $code); see $STATE/driver.log"; }
figure() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$drill"; }
acknowledged=$(figure acknowledged) found=$(figure found) lost=$(figure lost) double=$(figure double_assigned)
served_at=$(figure served_at_ms)
ready_after=$(awk -v a="$killed" -v b="$ready" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
served_after=inf
[[ "$served_at" == -1 ]] || served_after=$(awk -v a="$killed" -v b="$served_at" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
log "done"
echo "WAL b_replayed_to=$replayed $(sed 's/commits=/a_commits_after=/; s/records=/a_records_after=/; s/ last_lsn=.*//' <<<"$gap")"
echo "$drill"
echo "RESULT mode=$mode acknowledged=$acknowledged found=$found lost=$lost double_assigned=$double ready_after_s=$ready_after served_after_s=$served_after"
if [[ "$mode" == sync && ( "$lost" != 0 || "$double" != 0 ) ]]; then exit 1; fi
