#!/usr/bin/env bash
# Runs the whole test suite. Ends with one line: "N passed, N failed[, N skipped]".
# Installs what the tests need when it is missing: Chromium (Debian package) for the agent desktop's browser tests.
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
out=.test-output
rm -rf "$out" && mkdir -p "$out"

# --- Chromium for the agent desktop's browser tests (tests/RoutingCluster.Web.Tests) ---
# Debian's package, driven by Playwright through its ExecutablePath (no browser download). When it cannot be
# installed, the browser tests FAIL (they do not skip) and name this log: $out/chromium-install.log.
chromium=/usr/lib/chromium/chromium
if [ -x "$chromium" ]; then
  echo "chromium: found $chromium"
else
  echo "chromium: $chromium is missing; installing Debian's 'chromium' package (output in $out/chromium-install.log)"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  echo "chromium: apt-get update"
  if $sudo apt-get update -q >"$out/chromium-install.log" 2>&1; then
    echo "chromium: apt-get install -y chromium"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium >>"$out/chromium-install.log" 2>&1
  fi
  if [ -x "$chromium" ]; then
    echo "chromium: installed: $("$chromium" --version 2>/dev/null || echo "$chromium")"
  else
    echo "chromium: INSTALLATION FAILED; the browser tests (RoutingCluster.Web.Tests) will fail. Last lines of $out/chromium-install.log:"
    tail -n 5 "$out/chromium-install.log" | sed 's/^/  /'
  fi
fi

if ! dotnet build RoutingCluster.sln -c Release -nologo -v q 2>&1 | tee "$out/build.log" | tail -n 3; then
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi
if grep -q "error" "$out/build.log" && ! grep -q " 0 Error(s)" "$out/build.log"; then
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi

passed=0; failed=0; skipped=0; rc=0
for proj in tests/*/*.csproj; do
  name=$(basename "$proj" .csproj)
  echo "== $name"
  dotnet test "$proj" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --results-directory "$out" 2>&1 | tee "$out/$name.log" | grep -E "^(Passed|Failed|Skipped)!|\[FAIL\]|^\s+Failed |Error Message" | head -n 60
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  trx="$out/$name.trx"
  if [ -f "$trx" ]; then
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
    t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters"); e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${t:-0} - ${e:-0}))
  else
    echo "no results for $name"; failed=$((failed + 1)); rc=1
  fi
done
[ "$failed" -eq 0 ] || rc=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc
