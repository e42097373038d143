#!/usr/bin/env bash
# A local multi-silo RoutingCluster on this host, backed by PostgreSQL. Loopback only.
#
#   scripts/cluster.sh up N      starts PostgreSQL (a throwaway server from scripts/pg.sh under .cluster/pg, unless
#                                ROUTING_PG holds a connection string), builds the silo host once (Release), starts
#                                N silos and waits until each answers 200 on /health/ready
#   scripts/cluster.sh add [I]   starts one more silo (scale out) and waits until it is ready; with I, starts silo I
#                                again on its own ports (the restart half of a rolling restart)
#   scripts/cluster.sh remove I  stops silo I gracefully (SIGTERM; SIGKILL after CLUSTER_STOP_TIMEOUT s) (scale in)
#   scripts/cluster.sh status    prints every silo's process and /health/ready status
#   scripts/cluster.sh down      stops every silo, then the throwaway PostgreSQL (never a ROUTING_PG server)
#
# Silo i listens on HTTP 5000+i, silo port 11111+i and gateway port 30000+i, all on 127.0.0.1, with
# Storage:Provider=postgres and Clustering:Provider=postgres. State lives in .cluster/ at the repository root:
# silo-i.log (console log), silo-i.pid, connection (the connection string), pg/ (the throwaway server),
# dev-signing-key (the silos' shared dev-mode token key: get a token from any silo's POST /auth/dev-token),
# pseudonym-key (the silos' shared Privacy:PseudonymKey: one pseudonym per customer, retries on any silo).
#
# The silos run with DOTNET_TC_CallCountingDelayMs=0 (hot code optimized sooner after start) unless it is set.
#
# Environment: ROUTING_PG (use this PostgreSQL), CLUSTER_READY_TIMEOUT (120 s per silo),
# CLUSTER_STOP_TIMEOUT (45 s; the host's own Hosting:ShutdownTimeoutSeconds is 30, and its watchdog ends it 5 s later), CLUSTER_NO_BUILD=1 (skip the build).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/local.sh
source "$ROOT/scripts/lib/local.sh"
STATE="$ROOT/.cluster"
READY_TIMEOUT=${CLUSTER_READY_TIMEOUT:-120}
STOP_TIMEOUT=${CLUSTER_STOP_TIMEOUT:-45}

die() { echo "cluster.sh: $*" >&2; exit 1; }
log() { echo "cluster.sh: $*" >&2; }
usage() { die "usage: $0 up N | add [I] | remove I | status | down"; }

http_port() { echo $((5000 + $1)); }
silo_port() { echo $((11111 + $1)); }
gateway_port() { echo $((30000 + $1)); }
url() { echo "http://127.0.0.1:$(http_port "$1")"; }
pid_file() { silo_pid_file "$STATE" "silo-$1"; }

# Indexes of the silos with a pid file, in order.
silos() {
  local f
  for f in "$STATE"/silo-*.pid; do
    [[ -e "$f" ]] || continue
    f=${f##*/silo-}; echo "${f%.pid}"
  done | sort -n
}

alive() { silo_alive "$STATE" "silo-$1"; }

connection() {
  [[ -f "$STATE/connection" ]] || die "no cluster here (run '$0 up N' first)"
  cat "$STATE/connection"
}

ensure_database() {
  mkdir -p "$STATE"
  if [[ -f "$STATE/connection" ]]; then return; fi
  if [[ -n "${ROUTING_PG:-}" ]]; then
    log "using PostgreSQL from ROUTING_PG"
    (umask 077; printf '%s\n' "$ROUTING_PG" >"$STATE/connection")
    return
  fi
  log "starting a throwaway PostgreSQL in $STATE/pg"
  local out
  out=$("$ROOT/scripts/pg.sh" start "$STATE/pg") || die "scripts/pg.sh start failed"
  (umask 077; printf '%s\n' "$(tail -n 1 <<<"$out")" >"$STATE/connection")
  touch "$STATE/pg-owned"
}

build() {
  if [[ "${CLUSTER_NO_BUILD:-}" == 1 && -f "$SILO_DLL" ]]; then return; fi
  log "building the silo host (Release)"
  : >"$STATE/build.log"
  build_release "$SILO_PROJECT" "$STATE/build.log"
}

# Starts silo $1 in the background (its own session, so it outlives this script).
start_silo() { silo_start "$STATE" "silo-$1" "$(connection)" "$(http_port "$1")" "$(silo_port "$1")" "$(gateway_port "$1")"; }

wait_ready() { silo_wait_ready "$STATE" "silo-$1" "$(url "$1")" "$2" "$READY_TIMEOUT"; }

# How many times the silo's shutdown watchdog has ended it (its log is appended to across restarts).
watchdog_endings() { local n; n=$(grep -c "SHUTDOWN WATCHDOG" "$STATE/silo-$1.log" 2>/dev/null) || true; echo "${n:-0}"; }

stop_silo() {
  local i=$1 pid waited=0 endings
  pid=$(cat "$(pid_file "$i")" 2>/dev/null) || { log "silo $i is not known"; return; }
  if kill -0 "$pid" 2>/dev/null; then
    endings=$(watchdog_endings "$i")
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null && (( waited < STOP_TIMEOUT * 10 )); do sleep 0.1; waited=$((waited + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
      log "silo $i (pid $pid) still running after ${STOP_TIMEOUT}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    elif (( $(watchdog_endings "$i") > endings )); then
      log "silo $i (pid $pid) did NOT stop gracefully: its shutdown watchdog ended it after $((waited * 100))ms (exit code 3); see the SHUTDOWN WATCHDOG line in $STATE/silo-$i.log"
    else
      log "silo $i (pid $pid) stopped gracefully in $((waited * 100))ms"
    fi
  fi
  rm -f "$(pid_file "$i")"
}

up() {
  local n=$1 i start
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || usage
  [[ -z "$(silos)" ]] || die "silos are already running ($(silos | tr '\n' ' ')): '$0 down' first, or '$0 add'"
  ensure_database
  build
  start=$(now_ms)
  for i in $(seq 1 "$n"); do start_silo "$i"; done
  for i in $(seq 1 "$n"); do wait_ready "$i" "$start"; done
  echo "cluster of $n silos ready in $(( $(now_ms) - start ))ms"
}

add() {
  local last i start
  connection >/dev/null
  [[ -f "$SILO_DLL" ]] || build
  if [[ $# -eq 1 ]]; then
    [[ "$1" =~ ^[1-9][0-9]*$ ]] || usage
    i=$1
  else
    last=$(silos | tail -n 1)
    i=$(( ${last:-0} + 1 ))
  fi
  start=$(now_ms)
  start_silo "$i"
  wait_ready "$i" "$start"
}

remove() {
  local i=$1
  [[ "$i" =~ ^[1-9][0-9]*$ ]] || usage
  [[ -f "$(pid_file "$i")" ]] || die "silo $i is not running here"
  stop_silo "$i"
}

status() {
  local i any=0 state code body
  for i in $(silos); do
    any=1
    if alive "$i"; then state="running pid $(cat "$(pid_file "$i")")"; else state="NOT RUNNING"; fi
    body=$(curl -s -m 5 -w ' %{http_code}' "$(url "$i")/health/ready" || true)
    code=${body##* }; body=${body% *}
    echo "silo $i $(url "$i") $state ready=$code $body"
  done
  [[ $any -eq 1 ]] || echo "no silos"
}

down() {
  local i pids=()
  # Stop all silos at once (each gets SIGTERM, then SIGKILL after the timeout).
  for i in $(silos); do stop_silo "$i" & pids+=($!); done
  for i in "${pids[@]}"; do wait "$i" || true; done
  if [[ -f "$STATE/pg-owned" ]]; then
    "$ROOT/scripts/pg.sh" stop "$STATE/pg"
    rm -f "$STATE/pg-owned"
  fi
  rm -f "$STATE/connection"
  log "down (logs kept in $STATE)"
}

case "${1:-}" in
  up) [[ $# -eq 2 ]] || usage; up "$2" ;;
  add) [[ $# -le 2 ]] || usage; add "${@:2}" ;;
  remove) [[ $# -eq 2 ]] || usage; remove "$2" ;;
  status) [[ $# -eq 1 ]] || usage; status ;;
  down) [[ $# -eq 1 ]] || usage; down ;;
  *) usage ;;
esac
