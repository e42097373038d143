# Shell functions shared by the scripts in scripts/ (sourced, not run): loopback ports, the clock, the Release build
# and silo host processes. The sourcing script defines die() and log().
#
# Silo host processes: silo_start STATE NAME CONNECTION HTTP_PORT SILO_PORT GATEWAY_PORT [host options...] runs the
# built silo host (Release) in the background with the durable profile (Storage:Provider=postgres,
# Clustering:Provider=postgres) on 127.0.0.1, in a session of its own so that it outlives the caller, with its console
# log in STATE/NAME.log (appended) and its pid in STATE/NAME.pid. Every silo started with the same STATE shares one
# dev-mode signing key (STATE/dev-signing-key, made at the first start): a token from any of them works on all.

LIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SILO_PROJECT="$LIB_ROOT/silo-host/RoutingCluster.SiloHost"
SILO_DLL="$SILO_PROJECT/bin/Release/net10.0/RoutingCluster.SiloHost.dll"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

now_ms() { date +%s%3N; }

# A loopback port nobody listens on now, taken at random (so that scripts running side by side rarely pick the same
# one; only binding it makes it theirs) from 20000 up to the ports the kernel hands out to outgoing connections
# (net.ipv4.ip_local_port_range), so that no client's connection takes it before the server binds it.
free_port() {
  local low=20000 high=60000 ephemeral port attempt
  ephemeral=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 0)
  if (( ephemeral > low + 1000 )); then high=$ephemeral; fi
  for attempt in $(seq 1 50); do
    port=$(( low + (RANDOM * 32768 + RANDOM) % (high - low) ))
    if ! port_in_use "$port"; then echo "$port"; return; fi
  done
  die "no free loopback port found"
}

# build_release PROJECT_DIR LOG: dotnet build -c Release, quietly; on failure the log's tail and die.
build_release() {
  local project=$1 build_log=$2
  dotnet build "$project" -c Release -nologo -v q >>"$build_log" 2>&1 \
    || { tail -n 30 "$build_log" >&2; die "build of ${project##*/} failed; see $build_log"; }
}

silo_pid_file() { echo "$1/$2.pid"; }

silo_alive() { local pid; pid=$(cat "$(silo_pid_file "$1" "$2")" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; }

silo_ready_code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$1/health/ready" || true; }

silo_start() {
  local state=$1 name=$2 connection=$3 http=$4 silo=$5 gateway=$6 port
  shift 6
  if silo_alive "$state" "$name"; then die "$name is already running (pid $(cat "$(silo_pid_file "$state" "$name")"))"; fi
  for port in "$http" "$silo" "$gateway"; do
    port_in_use "$port" && die "port $port ($name) is already in use"
  done
  [[ -f "$SILO_DLL" ]] || die "$SILO_DLL is missing (build first)"
  [[ -s "$state/dev-signing-key" ]] || (umask 077; head -c 32 /dev/urandom | base64 >"$state/dev-signing-key")
  [[ -s "$state/pseudonym-key" ]] || (umask 077; head -c 32 /dev/urandom | base64 >"$state/pseudonym-key")
  # The host reads appsettings.json from its own folder and serves the project's pages (docs/operations.md).
  (
    cd "$SILO_PROJECT"
    export ConnectionStrings__Routing=$connection
    # Hot methods reach optimized code without the runtime's 100-ms tiering delay, which a busy silo keeps
    # postponing: a silo added under traffic settles sooner (docs/operations.md). The caller's value wins.
    export DOTNET_TC_CallCountingDelayMs=${DOTNET_TC_CallCountingDelayMs:-0}
    # Dev-mode tokens: one signing key for every silo started with this state (docs/security.md).
    export Auth__Dev__SigningKey
    Auth__Dev__SigningKey=$(cat "$state/dev-signing-key")
    # Customers' pseudonyms and idempotency fingerprints: one key for every silo started with this state too, so a
    # customer has one pseudonym and a create retried on another silo (or site) finds its session (docs/security.md).
    export Privacy__PseudonymKey
    Privacy__PseudonymKey=$(cat "$state/pseudonym-key")
    exec setsid dotnet "$SILO_DLL" \
      --urls "http://127.0.0.1:$http" \
      --Storage:Provider=postgres --Clustering:Provider=postgres \
      --Orleans:SiloPort="$silo" --Orleans:GatewayPort="$gateway" "$@" \
      </dev/null >>"$state/$name.log" 2>&1
  ) &
  echo $! >"$(silo_pid_file "$state" "$name")"
  # Not a job of the caller's: a script that kills it later is not told so by the shell.
  disown $!
  log "$name started (pid $!): http://127.0.0.1:$http, silo port $silo, gateway port $gateway, log $state/$name.log"
}

# silo_wait_ready STATE NAME URL START_MS TIMEOUT_S: until URL/health/ready answers 200; dies when the silo exits or
# the timeout passes. Prints "NAME ready in Nms: URL" (N counted from START_MS).
silo_wait_ready() {
  local state=$1 name=$2 url=$3 start=$4 timeout=$5 code
  while :; do
    silo_alive "$state" "$name" || { tail -n 20 "$state/$name.log" >&2; die "$name exited before it was ready; see $state/$name.log"; }
    code=$(silo_ready_code "$url")
    if [[ "$code" == 200 ]]; then
      echo "$name ready in $(( $(now_ms) - start ))ms: $url"
      return
    fi
    (( $(now_ms) - start < timeout * 1000 )) || die "$name not ready after ${timeout}s (last /health/ready: $code); see $state/$name.log"
    sleep 0.2
  done
}
