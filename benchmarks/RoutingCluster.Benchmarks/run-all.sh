#!/usr/bin/env bash
# Runs the benchmark set that docs/performance.md reports, in one go:
#   1. a throwaway PostgreSQL server with its durable defaults (fsync on, synchronous_commit on; unlike
#      scripts/pg.sh, which turns both off for tests), on 127.0.0.1:$RC_BENCH_PG_PORT (55207 unless set),
#      data and socket in a temporary directory; stopped and removed on exit;
#   2. BenchmarkDotNet, ShortRun job, in process (no generated project is built), every class, the PostgreSQL
#      ceiling included (RC_BENCH_PG);
#   3. the `calls` report (grain calls and storage writes per lifecycle);
#   4. the `scale` report: policy objects at 1k/10k/100k (workstation GC), then grains in one silo at
#      $RC_BENCH_GRAIN_COUNT agents and sessions (10,000 unless set; server GC as the host), one call at a time so
#      the first and last 1,000 show the cost per call as the counts grow.
# Each measured step holds /tmp/rc-measure.lock (flock), so it never overlaps another measurement on this machine,
# and prints the load average before it starts. Output: $OUT (/tmp/rc-bench-results/<UTC time> unless given).
#
#   dotnet build benchmarks/RoutingCluster.Benchmarks -c Release && benchmarks/RoutingCluster.Benchmarks/run-all.sh [OUT]
#
# Run as root (the server runs as the `postgres` user) or as a user that may run initdb itself.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DLL="$ROOT/benchmarks/RoutingCluster.Benchmarks/bin/Release/net10.0/RoutingCluster.Benchmarks.dll"
OUT=${1:-"/tmp/rc-bench-results/$(date -u +%Y%m%dT%H%M%SZ)"}
PORT=${RC_BENCH_PG_PORT:-55207}
GRAINS=${RC_BENCH_GRAIN_COUNT:-10000}
LOCK=/tmp/rc-measure.lock

[[ -f "$DLL" ]] || { echo "build first: dotnet build benchmarks/RoutingCluster.Benchmarks -c Release" >&2; exit 1; }
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[[ -x "$BIN/initdb" ]] || { echo "PostgreSQL is not installed (apt-get install -y postgresql)" >&2; exit 1; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

PGDIR=$(mktemp -d /tmp/rc-bench-pg.XXXXXX)
stop_pg() {
  if [[ -f "$PGDIR/data/postmaster.pid" ]]; then as_pg "$BIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null || true; fi
  rm -rf "$PGDIR"
}
trap stop_pg EXIT
if [[ $(id -u) -eq 0 ]]; then chown postgres: "$PGDIR"; fi
as_pg "$BIN/initdb" -D "$PGDIR/data" -A trust -U postgres -E UTF8 --no-locale >"$OUT/initdb.log" 2>&1
as_pg "$BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/postgres.log" -w \
  -o "-p $PORT -k $PGDIR -c listen_addresses=127.0.0.1" start >/dev/null
as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qAt -c "CREATE DATABASE bench"
as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d bench -qAt \
  -c "SELECT 'PostgreSQL ' || current_setting('server_version') || ', fsync=' || current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit') || ', shared_buffers=' || current_setting('shared_buffers')" \
  | tee "$OUT/postgres.txt"
export RC_BENCH_PG="Host=127.0.0.1;Port=$PORT;Username=postgres;Database=bench;Pooling=true"

measure() {  # measure NAME command...: under the lock, the load average recorded once the lock is held
  local name=$1; shift
  flock "$LOCK" bash -c '
    name=$1; out=$2; shift 2
    echo "$name: start $(date -u +%H:%M:%S) UTC, load before: $(uptime | sed "s/.*load average: //")" | tee -a "$out/load.txt"
    "$@" >"$out/$name.txt" 2>&1
    rc=$?
    echo "$name: end $(date -u +%H:%M:%S) UTC, load after: $(uptime | sed "s/.*load average: //")" | tee -a "$out/load.txt"
    exit $rc' _ "$name" "$OUT" "$@"
}

cd "$OUT"
measure benchmarkdotnet dotnet "$DLL" --filter '*' --job short --inProcess --artifacts "$OUT/BenchmarkDotNet.Artifacts"
measure calls dotnet "$DLL" calls --sessions 1000
# The policy objects with the workstation GC: the figures are the data structures' own (with the server GC, the
# operations that allocate pay for frequent gen-0 collections on this 2-core machine, up to 10x at 100,000).
measure scale-policy env DOTNET_gcServer=0 dotnet "$DLL" scale --grain-agents 0 --grain-sessions 0
measure scale-grains dotnet "$DLL" scale --sizes "" --grain-agents "$GRAINS" --grain-sessions "$GRAINS" --in-flight 1
echo "results in $OUT"
