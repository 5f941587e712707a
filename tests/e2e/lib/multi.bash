# multi.bash -- NSD, BIND and Knot at once for tests/e2e (and bench/backends):
# the three real servers of lib/servers, lib/bind and lib/knot side by side on
# their own free 127.0.0.1 ports, one zonedrop.yml naming all three backends
# (nsd1, bind1, knot1), and helpers that run servers.bash's checks (served,
# absent, expect_answer, expect_files...) against one server or all three.
# Load it after lib/servers, lib/bind and lib/knot:
#   load lib/servers
#   load lib/bind
#   load lib/knot
#   load lib/multi
#   setup_file() { e2e_init; start_three; write_multi_config; start_lighttpd; }
# Everything is stopped by PID (servers.bash's stop_pid), never by name.
# shellcheck shell=bash

# the servers start_three starts and write_multi_config names (bench/backends
# sets a subset, e.g. MULTI_SERVERS=knot)
MULTI_SERVERS=${MULTI_SERVERS:-"nsd bind knot"}

# start_three: NSD, named and knotd (those in $MULTI_SERVERS) on their own ports.
# Sets NSD_PORT, BIND_PORT, KNOT_PORT (exported) besides what start_nsd,
# start_bind and start_knot set; DNS_PORT is the first server's.
start_three() {
  local ports s
  ports=$(free_ports 4) || return 1
  read -r NSD_PORT BIND_PORT BIND_CTL_PORT KNOT_PORT <<<"$ports"
  export NSD_PORT BIND_PORT BIND_CTL_PORT KNOT_PORT
  for s in $MULTI_SERVERS; do
    case $s in
      nsd)
        DNS_PORT=$NSD_PORT start_nsd || return 1
        # start_nsd forgets its PID per test shell: keep it where later tests find it
        pid_of_last nsd > "$NSD_DIR/nsd.started" ;;
      # explicit directories: a BIND_DIR/KNOT_DIR left from an earlier work
      # directory (bench/backends runs several) must not be used again
      bind) DNS_PORT=$BIND_PORT start_bind "$T/bind" || return 1 ;;
      knot) DNS_PORT=$KNOT_PORT start_knot "$T/knot" text || return 1 ;;
    esac
  done
  DNS_PORT=$(port_of "${MULTI_SERVERS%% *}")
  export DNS_PORT
}

pid_of_last() { tail -1 "$ZD_PIDS/$1"; }   # pid_of_last NAME: the last PID remembered

# port_of SERVER: the DNS port of nsd, bind or knot
port_of() {
  case $1 in
    nsd) echo "$NSD_PORT" ;;
    bind) echo "$BIND_PORT" ;;
    knot) echo "$KNOT_PORT" ;;
    *) echo "port_of: unknown server '$1'" >&2; return 1 ;;
  esac
}

# backend_of SERVER: its backend's name in the config written below
backend_of() { echo "${1}1"; }

# on SERVER COMMAND...: a servers.bash helper (served, absent, expect_answer,
# nsd_probe, dig_short...) against that server's port
on() {
  local DNS_PORT
  DNS_PORT=$(port_of "$1") || return 1
  shift
  "$@"
}

# on_all [--except SERVER] COMMAND...: COMMAND on each server; every failure is
# shown with the server's name, and any failure fails the whole
on_all() {
  local skip="" s rc=0 out
  if [ "$1" = --except ]; then skip=$2; shift 2; fi
  for s in $MULTI_SERVERS; do
    [ "$s" = "$skip" ] && continue
    out=$(on "$s" "$@" 2>&1) || { rc=1; printf '%s: %s\n' "$s" "${out:-"$* failed"}"; }
  done
  return $rc
}

# serial_now DOMAIN: the SOA serial served on $DNS_PORT, one query, no polling
serial_now() { dig +short +norec +time=2 +tries=1 -p "$DNS_PORT" @127.0.0.1 "$1" SOA | awk '{print $3}'; }

# served_now DOMAIN SERIAL / absent_now DOMAIN: the answer at once (the drain
# verified before it returned, so there is no grace period to poll through)
served_now() {
  local got
  got=$(serial_now "$1")
  [ "$got" = "$2" ] || { echo "$1: SOA serial '${got:-none}' right after the drain, wanted $2"; return 1; }
}
absent_now() {
  local got
  got=$(dig +short +norec +time=2 +tries=1 -p "$DNS_PORT" @127.0.0.1 "$1" SOA)
  [ -z "$got" ] || { echo "$1 still served right after the drain: $got"; return 1; }
  nsd_probe || { echo "the server does not answer its probe zone"; return 1; }
}

# expect_on SERVER[,SERVER...] FILE.expect...: the corpus answers as dig +short
# prints them, polled (lib/expect_multi.py: one dig -f batch per server and round)
expect_on() {
  local s
  local -a dns=()
  for s in ${1//,/ }; do dns+=(--dns "$s=127.0.0.1@$(port_of "$s")"); done
  shift
  "$PY" "$E2E_LIB/expect_multi.py" "${dns[@]}" "$@"
}

# push_fixtures ZONEFILE...: push corpus zones through the CGI as DirectAdmin
# does (zdclient's requests, one python for all), each with the options its
# .expect names on a line "! push key=value ..." (hostname, username); prints
# the refused ones and fails when any was
push_fixtures() {
  "$PY" - "$E2E_LIB" "${ZD_URL_OVERRIDE:-$ZD_URL}" "$ZD_USER" "$ZD_PASS" "$@" <<'EOF'
import os, sys
sys.dont_write_bytecode = True
lib, url, user, pw = sys.argv[1:5]
sys.path.insert(0, lib)
import zdclient as z
z.O.base, z.O.user, z.O.password = url, user, pw
bad = 0
for zf in sys.argv[5:]:
    domain = os.path.basename(zf)[:-len(".zone")]
    opts = {}
    try:
        with open(zf[:-len(".zone")] + ".expect", encoding="utf-8") as f:
            for line in f:
                if line.startswith("! push "):
                    opts.update(kv.split("=", 1) for kv in line[7:].split())
    except FileNotFoundError:
        pass
    with open(zf, "rb") as f:
        body = f.read()
    r = z.send_raw(z.push_req(domain, body, opts.get("hostname", "da1.e2e.example"),
                              opts.get("username", "alice")))
    if r.status != 200 or r.keys().get("error") != "0":
        print("push %s refused: %s" % (domain, r.line()))
        bad += 1
sys.exit(1 if bad else 0)
EOF
}

# ---- stopping and restarting one server -------------------------------------------

# stop_server SERVER: stop it by its PID (TERM, then KILL) and wait until it is gone
stop_server() {
  case $1 in
    nsd) stop_nsd ;;
    bind) DNS_PORT=$BIND_PORT stop_bind ;;
    knot) stop_knot "$KNOT_DIR" ;;
  esac
  on "$1" wait_until 10 "$1 to stop answering" server_silent
}
server_silent() { ! nsd_probe; }

# start_server SERVER: start it again on the same port, from the same files
start_server() {
  case $1 in
    nsd) restart_nsd ;;
    bind) DNS_PORT=$BIND_PORT start_bind ;;
    knot) DNS_PORT=$KNOT_PORT start_knot "$KNOT_DIR" ;;
  esac
}

stop_nsd() {
  local pid
  pid=$(cat "$NSD_DIR/nsd.started" 2>/dev/null) || return 0
  [ -n "$pid" ] || return 0
  stop_pid "$pid"
  wait_until 10 "nsd $pid to exit" nsd_gone "$pid" || return 1
  rm -f "$NSD_DIR/nsd.started"
}
nsd_gone() { ! kill -0 "$1" 2>/dev/null; }

# restart_nsd: nsd -d again with its config and zonedrop's include as they are
# (start_nsd would empty the include)
restart_nsd() {
  local d=$NSD_DIR
  nsd -d -c "$d/nsd.conf" >> "$d/nsd.stderr" 2>&1 3>&- &
  remember nsd $!
  echo $! > "$d/nsd.started"
  DNS_PORT=$NSD_PORT wait_until 30 "nsd on 127.0.0.1@$NSD_PORT" nsd_probe \
    || { tail -5 "$d/nsd.log" "$d/nsd.stderr" 2>/dev/null >&2; return 1; }
  wait_until 15 "nsd-control" nsd-control -c "$d/nsd.conf" status
}

# ---- zonedrop.yml -----------------------------------------------------------------

# write_multi_config [RETRY_SCHEDULE [EXTRA_YAML]]: $ZD_CONFIG with nsd1, bind1
# and knot1 (those in $MULTI_SERVERS), all enabled (default schedule [1s, 1s, 1s])
write_multi_config() {
  local sched=${1:-"[1s, 1s, 1s]"}
  {
  cat <<EOF
# written by tests/e2e/lib/multi.bash
spool_dir: $ZD_SPOOL
state_dir: $ZD_STATE
log_level: info
verify_timeout: ${MULTI_VERIFY_TIMEOUT:-20s}
receiver:
  users:
    - name: $ZD_USER
      password: "$ZD_PASS"
  max_body: 1048576
  parent_exists: 3
retry:
  schedule: $sched
backends:
EOF
  case " $MULTI_SERVERS " in *" nsd "*) cat <<EOF
  nsd1:
    type: nsd
    enabled: true
    zones_dir: $NSD_ZONES
    include_file: $NSD_INCLUDE
    control: "$NSD_CONTROL"
    verify: 127.0.0.1@$NSD_PORT
EOF
  esac
  case " $MULTI_SERVERS " in *" bind "*) cat <<EOF
  bind1:
    type: bind
    enabled: true
    zones_dir: $BIND_ZONES
    include_file: $BIND_INCLUDE
    control: "$BIND_CONTROL"
    verify: 127.0.0.1@$BIND_PORT
EOF
  esac
  case " $MULTI_SERVERS " in *" knot "*) cat <<EOF
  knot1:
    type: knot
    enabled: true
    zones_dir: $KNOT_ZONES
    include_file: $KNOT_INCLUDE
    control: "$KNOT_CONTROL"
    verify: 127.0.0.1@$KNOT_PORT
EOF
  esac
  printf '%s\n' "${2:-}"
  } > "$ZD_CONFIG.tmp"
  mv -f "$ZD_CONFIG.tmp" "$ZD_CONFIG"
}

# ---- retry state (zonedrop status / zones) ----------------------------------------

# backend_field BACKEND KEY: KEY=value from the backend's line of `zonedrop status`
backend_field() {
  "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" status \
    | awk -F'\t' -v b="$1" -v k="$2" '$1 == "backend" && $2 == b {
        for (i = 5; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }'
}

# retry_due BACKEND: true once the backend's next_retry (status) is not in the future
retry_due() {
  local next t
  next=$(backend_field "$1" next_retry)
  case $next in ''|-|never) return 0 ;; esac
  t=$(date -d "$next" +%s) || return 1
  [ "$(date +%s)" -ge "$t" ]
}
