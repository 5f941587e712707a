# The harness itself: the tools the end-to-end tests start are installed, make
# left the programs in $ZONEDROP_BIN, NSD and lighttpd start and stop by PID, and
# .ci/run runs exactly the test command README.md gives.
load lib/servers

setup_file() { e2e_init; }
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

@test "harness: the servers and clients the tests use are installed" {
  local t missing=
  for t in nsd nsd-control nsd-checkconf nsd-checkzone lighttpd nginx fcgiwrap dig curl flock python3; do
    command -v "$t" >/dev/null || missing="$missing $t"
  done
  [ -z "$missing" ] || { echo "missing:$missing (scripts/install-deps installs them)"; return 1; }
}

@test "harness: make left zonedrop.cgi, zonedrop-drain and zonedrop in \$ZONEDROP_BIN" {
  local p
  for p in zonedrop.cgi zonedrop-drain zonedrop; do
    [ -x "$ZONEDROP_BIN/$p" ] || { echo "missing $ZONEDROP_BIN/$p (run make)"; return 1; }
  done
}

@test "harness: NSD and lighttpd start on free ports and stop by PID" {
  local pids p
  start_nsd
  write_config
  start_lighttpd
  nsd_probe
  run zdc login
  answer_is "$output" 200 error=0
  pids=$(cat "$ZD_PIDS"/nsd "$ZD_PIDS"/lighttpd)
  stop_all
  for p in $pids; do
    if kill -0 "$p" 2>/dev/null; then echo "pid $p still runs"; return 1; fi
  done
}

@test "repo: .ci/run runs exactly the test command README.md gives" {
  local readme ci
  readme=$(sed -n '/^## Quick start on Debian 12/,/^## /p' "$REPO/README.md" | grep -E '^    .*make check' | sed 's/^    //')
  ci=$(grep -vE '^[[:space:]]*(#|$|set |cd )' "$REPO/.ci/run")
  [ -n "$readme" ] || { echo "no 'make check' command in README's quick start"; return 1; }
  [ "$readme" = "$ci" ] || { echo "README: '$readme'"; echo ".ci/run: '$ci'"; return 1; }
}
