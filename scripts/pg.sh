#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and local runs.
#
#   scripts/pg.sh start DIR   installs PostgreSQL from the Debian packages when it is missing, creates a
#                             cluster in DIR, starts it on a free 127.0.0.1 port (unix socket inside DIR),
#                             creates the database `routing`, and prints on stdout:
#                               PGPORT=<port>
#                               Host=127.0.0.1;Port=<port>;Username=postgres;Database=routing   (last line)
#   scripts/pg.sh standby DIR PRIMARY_DIR NAME
#                             a streaming-replication standby of the server started in PRIMARY_DIR: copies it with
#                             pg_basebackup -R (a replication slot NAME, application_name NAME, so the primary can name
#                             it in synchronous_standby_names), starts it on a free port like `start` (read-only, hot
#                             standby) and prints the same two lines
#   scripts/pg.sh promote DIR promotes that standby to a primary (pg_ctl promote; waits until it takes writes)
#   scripts/pg.sh sql DIR SQL runs SQL (one or more statements, one transaction) in the database `routing` of the
#                             server in DIR and prints the rows unaligned, '|' between columns
#   scripts/pg.sh wal-after DIR LSN
#                             of a server that is not running (a lost primary), what its WAL files hold after LSN (e.g.
#                             the last record its standby replayed: pg_last_wal_replay_lsn()), read with pg_waldump:
#                             prints `commits=<n> records=<n> last_lsn=<lsn>`
#   scripts/pg.sh stop DIR    stops that server (whichever kind) and removes DIR.
#
# PG_PORT=<port> in the environment: use that port instead of a random free one (fails when it is in use).
# PG_SERVER_OPTS="-c name=value ...": more server settings, e.g. "-c shared_preload_libraries=pg_stat_statements".
# Everything else (apt, initdb, server log excerpts) goes to stderr, so callers can read stdout as-is.
# Run as root (CI), the server runs as the unprivileged `postgres` user and DIR is chown'ed to it; run as
# another user, the server runs as that user. The cluster trusts local connections (-A trust) and runs
# with fsync off: it is for throwaway data only.
set -euo pipefail

readonly MARKER=".routing-pg"   # written into DIR at start; stop refuses to remove a DIR without it
readonly DATABASE="routing"

die() { echo "pg.sh: $*" >&2; exit 1; }
log() { echo "pg.sh: $*" >&2; }
# shellcheck source=lib/local.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/local.sh"

usage() { die "usage: $0 start DIR | standby DIR PRIMARY_DIR NAME | promote DIR | sql DIR SQL | wal-after DIR LSN | stop DIR"; }

bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [[ -n "$dir" && -x "$dir/initdb" ]] && echo "$dir"
}

ensure_installed() {
  if bin_dir >/dev/null; then return; fi
  [[ $(id -u) -eq 0 ]] || die "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb) and installing it needs root"
  log "installing PostgreSQL from the Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update && apt-get install -y postgresql; } >&2 || die "apt-get install postgresql failed"
  bin_dir >/dev/null || die "PostgreSQL installed but no /usr/lib/postgresql/*/bin/initdb was found"
}

# Runs a command as the user that owns the server: `postgres` when we are root, ourselves otherwise.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    if command -v runuser >/dev/null; then runuser -u postgres -- "$@"
    else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
  else
    "$@"
  fi
}

# Closes the file descriptors this shell inherited beyond stdin/out/err (and bash's own 255), so that the server
# started from here does not keep them open for its whole life: run under `flock LOCKFILE scripts/pg.sh start ...`,
# the server would otherwise hold the lock until it stops, and every later `flock` on that file would wait.
close_inherited_fds() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    if [[ $fd =~ ^[0-9]+$ && $fd -gt 2 && $fd -ne 255 ]]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

pick_port() {
  if [[ -n "${PG_PORT:-}" ]]; then
    [[ "$PG_PORT" =~ ^[0-9]+$ ]] || die "PG_PORT '$PG_PORT' is not a port number"
    port_in_use "$PG_PORT" && die "port $PG_PORT (PG_PORT) is already in use"
    echo "$PG_PORT"
    return
  fi
  free_port
}

# Makes DIR (new or empty, short enough for the socket) ready for a server's data: the marker, owned by the server's
# user. Prints DIR as an absolute path.
prepare_dir() {
  local dir=$1
  if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres >&2
  fi

  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # The server's unix socket lives in DIR, and socket paths are limited to 107 bytes.
  [[ ${#dir} -le 80 ]] || die "$dir is too long for the server's unix socket (at most 80 characters)"
  [[ -z "$(ls -A "$dir")" ]] || die "$dir is not empty"
  touch "$dir/$MARKER"
  if [[ $(id -u) -eq 0 ]]; then chown -R postgres: "$dir"; fi
  as_owner test -w "$dir" || die "$dir is not writable by the server's user (are its parent directories traversable?)"
  echo "$dir"
}

start() {
  local dir=$1 bin
  ensure_installed
  bin=$(bin_dir)
  dir=$(prepare_dir "$dir")
  as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  run_server "$dir"
  as_owner "$bin/psql" -h 127.0.0.1 -p "$(cat "$dir/port")" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt \
    -c "CREATE DATABASE $DATABASE" >&2 || die "CREATE DATABASE $DATABASE failed"
  print_connection "$dir"
}

standby() {
  local dir=$1 primary=$2 name=$3 bin
  [[ "$name" =~ ^[a-z0-9_]{1,63}$ ]] || die "standby name '$name' must be 1-63 characters from a-z 0-9 _ (it names a replication slot)"
  [[ -f "$primary/$MARKER" && -f "$primary/port" ]] || die "$primary holds no server started by '$0 start'"
  bin=$(bin_dir) || die "PostgreSQL is not installed"
  dir=$(prepare_dir "$dir")
  # -c fast: a checkpoint at once (the default spreads it over minutes); -R: standby.signal and primary_conninfo;
  # -C -S: a slot, so the primary keeps the WAL the standby has not received yet.
  as_owner "$bin/pg_basebackup" -d "host=127.0.0.1 port=$(cat "$primary/port") user=postgres application_name=$name" \
    -D "$dir/data" -R -X stream -C -S "$name" -c fast --no-sync >"$dir/basebackup.log" 2>&1 \
    || { cat "$dir/basebackup.log" >&2; die "pg_basebackup from $primary failed"; }
  run_server "$dir"
  print_connection "$dir"
}

promote() {
  local dir=$1 bin
  [[ -f "$dir/$MARKER" ]] || die "$dir was not created by '$0 standby'"
  bin=$(bin_dir) || die "PostgreSQL is not installed"
  as_owner "$bin/pg_ctl" -D "$dir/data" -w -t 60 promote >&2 || die "pg_ctl promote failed; see $dir/postgres.log"
}

sql() {
  local dir=$1 statement=$2 bin
  [[ -f "$dir/$MARKER" && -f "$dir/port" ]] || die "$dir holds no server started by '$0'"
  bin=$(bin_dir) || die "PostgreSQL is not installed"
  as_owner "$bin/psql" -h 127.0.0.1 -p "$(cat "$dir/port")" -U postgres -d "$DATABASE" -X -v ON_ERROR_STOP=1 -qAt -c "$statement"
}

wal_after() {
  local dir=$1 lsn=$2 bin dump commits records last
  [[ -f "$dir/$MARKER" ]] || die "$dir was not created by '$0'"
  [[ "$lsn" =~ ^[0-9A-F]+/[0-9A-F]+$ ]] || die "'$lsn' is not a WAL location (like 0/3000F20)"
  bin=$(bin_dir) || die "PostgreSQL is not installed"
  # pg_waldump reads to the end of what was written and then reports the end as an error: only its records count.
  dump=$(as_owner "$bin/pg_waldump" --path="$dir/data/pg_wal" --start="$lsn" 2>/dev/null) || true
  commits=$(grep -c 'desc: COMMIT' <<<"$dump") || true
  records=$(grep -c '^rmgr:' <<<"$dump") || true
  last=$(sed -n 's/.* lsn: \([0-9A-F]*\/[0-9A-F]*\), prev .*/\1/p' <<<"$dump" | tail -n 1)
  echo "commits=${commits:-0} records=${records:-0} last_lsn=${last:-$lsn}"
}

print_connection() {
  local port
  port=$(cat "$1/port")
  echo "PGPORT=$port"
  echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=$DATABASE"
}

# Starts the server of DIR/data on a free port (recorded in DIR/port) and waits until it accepts connections.
run_server() {
  local dir=$1 bin port attempt started=0
  bin=$(bin_dir)
  # A port is only known to be free when the server has bound it: retry on a bind failure.
  for attempt in 1 2 3 4 5; do
    port=$(pick_port)
    if ( close_inherited_fds
         as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
           -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 ${PG_SERVER_OPTS:-}" \
           start >&2 ); then
      started=1; break
    fi
    log "start on port $port failed (attempt $attempt):"; tail -n 5 "$dir/postgres.log" >&2 || true
  done
  [[ $started -eq 1 ]] || die "the server did not start; see $dir/postgres.log"

  for attempt in $(seq 1 100); do
    if as_owner "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; then break; fi
    [[ $attempt -lt 100 ]] || die "the server on port $port did not become ready"
    sleep 0.1
  done
  echo "$port" >"$dir/port"
}

running() { [[ -r "/proc/$1/stat" && "$(cut -d' ' -f3 "/proc/$1/stat")" != Z ]]; }

stop() {
  local dir=$1 bin
  [[ -d "$dir" ]] || { log "$dir does not exist: nothing to stop"; return; }
  dir=$(cd "$dir" && pwd)
  [[ -f "$dir/$MARKER" ]] || die "$dir was not created by '$0 start': refusing to remove it"
  # A server that was killed leaves its postmaster.pid behind (and, where nobody reaps it, a zombie): nothing to stop.
  if [[ -f "$dir/data/postmaster.pid" ]] && running "$(head -n 1 "$dir/data/postmaster.pid")" && bin=$(bin_dir); then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >&2 || log "pg_ctl stop failed; removing $dir anyway"
  fi
  rm -rf "$dir"
}

case "${1:-}:$#" in
  start:2) start "$2" ;;
  standby:4) standby "$2" "$3" "$4" ;;
  promote:2) promote "$2" ;;
  sql:3) sql "$2" "$3" ;;
  wal-after:3) wal_after "$2" "$3" ;;
  stop:2) stop "$2" ;;
  *) usage ;;
esac
