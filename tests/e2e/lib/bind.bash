# bind.bash -- a real BIND 9 for tests/e2e: named -g on free 127.0.0.1 ports in
# the work directory, the harness's probe zone (zonedrop-e2e.example, so
# servers.bash's served/absent/dig_short work against it), allow-new-zones yes,
# include "<include_file>" for zonedrop, rndc over 127.0.0.1 with a key made by
# rndc-confgen -a. Load it after lib/servers:
#   load lib/servers
#   load lib/bind
#   setup_file() { e2e_init; start_bind; write_bind_config; }
# Like everything in servers.bash, named is stopped by PID, never by name.
# shellcheck shell=bash

# start_bind [DIR]: start named (or start it again on the same ports and
# files). Sets DNS_PORT, BIND_DIR, BIND_CONF, BIND_INCLUDE, BIND_ZONES,
# BIND_CTL_PORT, BIND_CONTROL, BIND_PID, BIND_LOG (exported).
start_bind() {
  local d=${1:-${BIND_DIR:-$T/bind}}
  mkdir -p "$d/zones" "$d/probe"
  if [ -z "${DNS_PORT:-}" ] || [ -z "${BIND_CTL_PORT:-}" ]; then
    read -r DNS_PORT BIND_CTL_PORT <<<"$(free_ports 2)"
  fi
  if [ ! -f "$d/named.conf" ]; then
    cat > "$d/probe/zonedrop-e2e.example.zone" <<EOF
\$TTL 300
@ IN SOA ns1.zonedrop-e2e.example. hostmaster.zonedrop-e2e.example. ( 1 3600 600 86400 300 )
@ IN NS ns1.zonedrop-e2e.example.
ns1 IN A 127.0.0.1
probe IN A $PROBE_IP
EOF
    : > "$d/zonedrop.conf"
    rndc-confgen -a -A hmac-sha256 -k zonedrop-e2e -c "$d/rndc.key" > /dev/null 2>&1 || return 1
    cat > "$d/named.conf" <<EOF
// written by tests/e2e/lib/bind.bash
include "$d/rndc.key";
options {
  directory "$d";
  pid-file "$d/named.pid";
  session-keyfile "$d/session.key";
  managed-keys-directory "$d";
  listen-on port $DNS_PORT { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  allow-new-zones yes;
  notify no;
  dnssec-validation no;
};
controls { inet 127.0.0.1 port $BIND_CTL_PORT allow { 127.0.0.1; } keys { "zonedrop-e2e"; }; };
zone "zonedrop-e2e.example" { type primary; file "$d/probe/zonedrop-e2e.example.zone"; };
include "$d/zonedrop.conf";
EOF
  fi
  named-checkconf "$d/named.conf" || return 1
  BIND_DIR=$d BIND_CONF=$d/named.conf BIND_INCLUDE=$d/zonedrop.conf BIND_ZONES=$d/zones
  BIND_LOG=$d/named.log
  BIND_CONTROL="rndc -k $d/rndc.key -s 127.0.0.1 -p $BIND_CTL_PORT"
  # -g: foreground, log to stderr; -n 2: the machine's two cores
  named -g -n 2 -c "$d/named.conf" >> "$d/named.log" 2>&1 3>&- &
  BIND_PID=$!
  remember named "$BIND_PID"
  # each bats test runs in its own shell: later tests find the PID here
  echo "$BIND_PID" > "$d/named.started"
  export DNS_PORT BIND_DIR BIND_CONF BIND_INCLUDE BIND_ZONES BIND_CTL_PORT BIND_CONTROL BIND_PID BIND_LOG
  wait_until 30 "named on 127.0.0.1@$DNS_PORT" nsd_probe \
    || { tail -5 "$d/named.log" >&2; return 1; }
  # shellcheck disable=SC2086  # BIND_CONTROL is words
  wait_until 15 "rndc" $BIND_CONTROL status || { tail -5 "$d/named.log" >&2; return 1; }
}

# stop_bind: TERM named by its PID and wait until it is gone (a dead server is
# what some tests want; its files stay for start_bind to use again)
stop_bind() {
  local pid
  pid=$(cat "$BIND_DIR/named.started" 2>/dev/null) || return 0
  [ -n "$pid" ] || return 0
  stop_pid "$pid"
  wait_until 10 "named $pid to exit" bind_gone "$pid" || return 1
  rm -f "$BIND_DIR/named.started"
  BIND_PID=
}
bind_gone() { ! kill -0 "$1" 2>/dev/null; }

# write_bind_config [EXTRA_YAML]: $ZD_CONFIG with one bind backend (bind1)
write_bind_config() {
  cat > "$ZD_CONFIG.tmp" <<EOF
# written by tests/e2e/lib/bind.bash
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
  bind1:
    type: bind
    enabled: true
    zones_dir: $BIND_ZONES
    include_file: $BIND_INCLUDE
    control: "$BIND_CONTROL"
    verify: 127.0.0.1@$DNS_PORT
${1:-}
EOF
  mv -f "$ZD_CONFIG.tmp" "$ZD_CONFIG"
}

# bind_log_mark: remember how far named's log is, for bind_log_since
bind_log_mark() { BIND_LOG_MARK=$(wc -l < "$BIND_LOG"); }
# bind_log_since: named's log lines since the last bind_log_mark
bind_log_since() { tail -n +"$((${BIND_LOG_MARK:-0} + 1))" "$BIND_LOG"; }
# bind_commands: the control commands named received since the mark, one a line
bind_commands() {
  bind_log_since | sed -n "s/.*received control channel command '\\(.*\\)'$/\\1/p"
}

# in_include DOMAIN: the include names DOMAIN
in_include() { grep -qF "zone \"$1\" " "$BIND_INCLUDE"; }
