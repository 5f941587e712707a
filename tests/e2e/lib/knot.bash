# knot.bash -- a real Knot DNS for tests/e2e: knotd on a free 127.0.0.1 port in
# the work directory, serving the harness's probe zone (zonedrop-e2e.example, so
# servers.bash's served/absent/dig_short work against it), control over a unix
# socket, template storage = the zones directory with zonefile-sync: -1,
# zonefile-load: whole, journal-content: none (as the conformance kit runs it).
# Two ways to run it:
#   text (default): knotd -c knot.conf, which includes zonedrop's include_file;
#                   conf transactions change only the running knotd, the include
#                   is what a restart reads
#   confdb:         knot.conf imported with knotc conf-import, knotd -C confdb,
#                   no include (the conformance kit's way)
# Load it after lib/servers:
#   load lib/servers
#   load lib/knot
#   setup_file() { e2e_init; start_knot; write_knot_config; }
# Like everything in servers.bash, knotd is stopped by PID, never by name.
# shellcheck shell=bash

# start_knot [DIR [MODE]]: start knotd (or start it again on the same port and
# files). MODE: text (default) or confdb. Sets DNS_PORT, KNOT_DIR, KNOT_CONF,
# KNOT_INCLUDE (empty in confdb mode), KNOT_ZONES, KNOT_SOCK, KNOT_CONTROL,
# KNOT_PID, KNOT_LOG (exported).
start_knot() {
  local d=${1:-${KNOT_DIR:-$T/knot}} mode=${2:-${KNOT_MODE:-text}}
  mkdir -p "$d/zones" "$d/probe" "$d/db"
  [ -n "${DNS_PORT:-}" ] || DNS_PORT=$(free_ports 1)
  if [ ! -f "$d/knot.conf" ]; then
    cat > "$d/probe/zonedrop-e2e.example.zone" <<EOF
\$TTL 300
@ IN SOA ns1.zonedrop-e2e.example. hostmaster.zonedrop-e2e.example. ( 1 3600 600 86400 300 )
@ IN NS ns1.zonedrop-e2e.example.
ns1 IN A 127.0.0.1
probe IN A $PROBE_IP
EOF
    cat > "$d/knot.conf" <<EOF
# written by tests/e2e/lib/knot.bash
server:
    rundir: "$d"
    pidfile: "$d/knot.pid"
    listen: 127.0.0.1@$DNS_PORT
log:
  - target: stderr
    any: info
database:
    storage: "$d/db"
control:
    listen: "$d/knot.sock"
template:
  - id: default
    storage: "$d/zones"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: zonedrop-e2e.example
    file: "$d/probe/zonedrop-e2e.example.zone"
EOF
    if [ "$mode" = text ]; then
      : > "$d/zonedrop.conf"
      echo "include: \"$d/zonedrop.conf\"" >> "$d/knot.conf"
    fi
    echo "$mode" > "$d/mode"
  fi
  mode=$(cat "$d/mode")
  KNOT_DIR=$d KNOT_CONF=$d/knot.conf KNOT_ZONES=$d/zones KNOT_SOCK=$d/knot.sock KNOT_LOG=$d/knot.log
  KNOT_INCLUDE=
  [ "$mode" = text ] && KNOT_INCLUDE=$d/zonedrop.conf
  KNOT_CONTROL="knotc -s $d/knot.sock"
  knotc -c "$d/knot.conf" conf-check > "$d/check.log" 2>&1 || { cat "$d/check.log" >&2; return 1; }
  if [ "$mode" = text ]; then
    knotd -c "$d/knot.conf" >> "$d/knot.log" 2>&1 3>&- &
  else
    if [ ! -d "$d/confdb" ]; then
      knotc -C "$d/confdb" conf-import "$d/knot.conf" > "$d/import.log" 2>&1 \
        || { cat "$d/import.log" >&2; return 1; }
    fi
    knotd -C "$d/confdb" >> "$d/knot.log" 2>&1 3>&- &
  fi
  KNOT_PID=$!
  remember knotd "$KNOT_PID"
  # each bats test runs in its own shell: later tests find the PID here
  echo "$KNOT_PID" > "$d/knotd.started"
  export DNS_PORT KNOT_DIR KNOT_CONF KNOT_INCLUDE KNOT_ZONES KNOT_SOCK KNOT_CONTROL KNOT_PID KNOT_LOG
  wait_until 30 "knotd on 127.0.0.1@$DNS_PORT" nsd_probe || { tail -5 "$d/knot.log" >&2; return 1; }
  wait_until 15 "knotc" knotc -s "$d/knot.sock" status || { tail -5 "$d/knot.log" >&2; return 1; }
}

# stop_knot [DIR]: TERM knotd by its PID and wait until it is gone (its files
# stay for start_knot to use again)
stop_knot() {
  local d=${1:-$KNOT_DIR} pid
  pid=$(cat "$d/knotd.started" 2>/dev/null) || return 0
  [ -n "$pid" ] || return 0
  stop_pid "$pid"
  wait_until 10 "knotd $pid to exit" knot_gone "$pid" || return 1
  rm -f "$d/knotd.started"
}
knot_gone() { ! kill -0 "$1" 2>/dev/null; }

# write_knot_config [EXTRA_YAML]: $ZD_CONFIG with one knot backend (knot1);
# KNOT_CONTROL_USE overrides control:, include_file is set in text mode
write_knot_config() {
  local inc=
  [ -n "$KNOT_INCLUDE" ] && inc="    include_file: $KNOT_INCLUDE"
  cat > "$ZD_CONFIG.tmp" <<EOF
# written by tests/e2e/lib/knot.bash
spool_dir: $ZD_SPOOL
state_dir: $ZD_STATE
log_level: info
verify_timeout: 10s
receiver:
  users:
    - name: $ZD_USER
      password: "$ZD_PASS"
retry:
  schedule: [1s, 1s, 1s]
backends:
  knot1:
    type: knot
    enabled: true
    zones_dir: $KNOT_ZONES
$inc
    control: "${KNOT_CONTROL_USE:-$KNOT_CONTROL}"
    verify: 127.0.0.1@$DNS_PORT
${1:-}
EOF
  mv -f "$ZD_CONFIG.tmp" "$ZD_CONFIG"
}

# knot_log_mark: remember how far knotd's log is, for knot_log_since
knot_log_mark() { KNOT_LOG_MARK=$(wc -l < "$KNOT_LOG"); }
knot_log_since() { tail -n +"$((${KNOT_LOG_MARK:-0} + 1))" "$KNOT_LOG"; }
# knot_commands: the control commands knotd received since the mark, one a line
# (zone commands once per zone: "zone-reload a.example")
knot_commands() {
  knot_log_since | sed -n \
    -e "s/.*info: \\[\\([^]]*\\)\\.\\] control, received command '\\(.*\\)'$/\\2 \\1/p" \
    -e "s/.*info: control, received command '\\(.*\\)'$/\\1/p"
}

# knot_zones: the zones in knotd's running configuration, one a line, no dot
knot_zones() { knotc -s "$KNOT_SOCK" conf-read zone.domain | sed -n 's/^zone\.domain = \(.*\)\.$/\1/p'; }

# in_include DOMAIN: zonedrop's include (Knot text syntax) names DOMAIN
in_include() { grep -qxF "  - domain: \"$1\"" "$KNOT_INCLUDE"; }
