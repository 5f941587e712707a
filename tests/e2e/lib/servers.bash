# servers.bash -- helpers for tests/e2e: real NSD, lighttpd, nginx + fcgiwrap on
# free 127.0.0.1 ports in a private work directory, a zonedrop.yml for them, and
# DirectAdmin-like requests (tests/e2e/lib/zdclient.py, raw HTTP/1.0 sockets).
#
# A .bats file does:
#   load lib/servers
#   setup_file()    { e2e_init; start_nsd; write_config; start_lighttpd; }
#   teardown_file() { e2e_cleanup; }
#   teardown()      { e2e_teardown; }       # keeps the work dir when a test failed
#
# Everything started here is remembered by PID and stopped by PID (TERM, then
# KILL after 5 s), and only when its command line names the work directory.
# Readiness is polled, never slept for. Environment: ZONEDROP_BIN (programs,
# default $REPO/bin), ZD_KEEP=1 (keep the work directory), ZD_DRAIN_TIMEOUT.
# shellcheck shell=bash

E2E_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_LIB/../../.." && pwd)
ZONEDROP_BIN=${ZONEDROP_BIN:-$REPO/bin}
case $ZONEDROP_BIN in /*) ;; *) ZONEDROP_BIN=$REPO/$ZONEDROP_BIN ;; esac
export ZONEDROP_BIN REPO E2E_LIB
export PATH=$PATH:/usr/sbin:/sbin
ZD_DRAIN_TIMEOUT=${ZD_DRAIN_TIMEOUT:-300}
# the system's python3 (a version-manager shim costs ~0.3 s per start)
if [ -z "${PY:-}" ]; then
  if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=$(command -v python3); fi
fi
export PY
export FIXTURES=$REPO/tests/fixtures

say() { printf '# %s\n' "$*" >&3 2>/dev/null || printf '# %s\n' "$*" >&2; }

# ---- work directory and processes -------------------------------------------------

# e2e_init: a fresh work directory T with spool/ state/ pids/; exported for the tests
e2e_init() {
  T=$(mktemp -d /tmp/zde2e.XXXXXX) || return 1
  chmod 755 "$T"
  mkdir -p "$T/pids" "$T/spool/tmp" "$T/spool/new" "$T/spool/cur" "$T/spool/bad" "$T/state"
  # the CGI's counters (/metrics): made at install, group-writable, never by the CGI
  install -m 0660 /dev/null "$T/spool/counters"
  ZD_SPOOL=$T/spool ZD_STATE=$T/state ZD_CONFIG=$T/zonedrop.yml ZD_PIDS=$T/pids
  ZD_USER=da-e2e
  ZD_PASS=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(18))')
  export T ZD_SPOOL ZD_STATE ZD_CONFIG ZD_PIDS ZD_USER ZD_PASS ZD_DRAIN_TIMEOUT
}

# e2e_teardown (per test): remember that a test failed, so the work dir is kept
e2e_teardown() {
  if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${T:-}" ] && [ -d "$T" ]; then
    echo "${BATS_TEST_DESCRIPTION:-?}" >> "$T/failed"
  fi
}

# e2e_cleanup (teardown_file): stop everything, remove T unless kept
e2e_cleanup() {
  [ -n "${T:-}" ] && [ -d "$T" ] || return 0
  stop_all
  if [ "${ZD_KEEP:-0}" = 1 ] || [ -s "$T/failed" ]; then
    say "work directory kept: $T"
  else
    rm -rf "$T"
  fi
}

remember() { echo "$2" >> "$ZD_PIDS/$1"; }   # remember NAME PID

stop_pid() {  # stop one process we started: TERM, up to 5 s, then KILL
  local pid=$1 _
  kill -0 "$pid" 2>/dev/null || return 0
  # only a process whose command line (or, for FastCGI children, environment)
  # names our work directory is ours
  cat "/proc/$pid/cmdline" "/proc/$pid/environ" 2>/dev/null | tr '\0' ' ' | grep -qF "$T" || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

stop_all() {
  local f pid
  for f in "$ZD_PIDS"/*; do
    [ -f "$f" ] || continue
    while read -r pid; do [ -n "$pid" ] && stop_pid "$pid"; done < "$f"
    rm -f "$f"
  done
}

free_ports() {  # free_ports N: N free TCP+UDP ports on 127.0.0.1 (20000-31999)
  "$PY" - "$1" <<'EOF'
import random, socket, sys
n = int(sys.argv[1]); got = []
busy = set(range(5300, 5360)) | {3307} | set(range(22220, 22230))
rnd = random.SystemRandom()
while len(got) < n:
    p = rnd.randrange(20000, 32000)
    if p in busy or p in got:
        continue
    ok = True
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            ok = False
        finally:
            s.close()
    if ok:
        got.append(p)
print(" ".join(map(str, got)))
EOF
}

wait_until() {  # wait_until SECONDS DESCRIPTION COMMAND...: poll every 0.1 s
  local secs=$1 what=$2
  shift 2
  local end=$((SECONDS + secs))
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ $SECONDS -ge $end ] && break
    sleep 0.1
  done
  echo "timed out after ${secs}s waiting for $what" >&2
  return 1
}

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---- NSD --------------------------------------------------------------------------

PROBE_IP=192.0.2.53
nsd_probe() {
  [ "$(dig +short +norec +time=1 +tries=1 -p "$DNS_PORT" @127.0.0.1 probe.zonedrop-e2e.example A)" = "$PROBE_IP" ]
}

# start_nsd [DIR]: nsd -d on 127.0.0.1:$DNS_PORT with the harness's probe zone, an
# empty include file for zonedrop, control over a unix socket. Sets DNS_PORT,
# NSD_DIR, NSD_CONF, NSD_CONTROL, NSD_INCLUDE, NSD_ZONES (exported).
start_nsd() {
  local d=${1:-$T/nsd}
  mkdir -p "$d/zones" "$d/probe"
  [ -n "${DNS_PORT:-}" ] || DNS_PORT=$(free_ports 1)
  cat > "$d/probe/zonedrop-e2e.example.zone" <<EOF
\$TTL 300
@ IN SOA ns1.zonedrop-e2e.example. hostmaster.zonedrop-e2e.example. ( 1 3600 600 86400 300 )
@ IN NS ns1.zonedrop-e2e.example.
ns1 IN A 127.0.0.1
probe IN A $PROBE_IP
EOF
  : > "$d/zonedrop.conf"
  cat > "$d/nsd.conf" <<EOF
# written by tests/e2e/lib/servers.bash
server:
  ip-address: 127.0.0.1
  port: $DNS_PORT
  do-ip6: no
  server-count: 1
  username: ""
  chroot: ""
  zonesdir: "$d"
  database: ""
  zonelistfile: "$d/zone.list"
  pidfile: "$d/nsd.pid"
  xfrdfile: "$d/xfrd.state"
  xfrdir: "$d"
  logfile: "$d/nsd.log"
  verbosity: 1
remote-control:
  control-enable: yes
  control-interface: "$d/nsd.ctl"
zone:
  name: zonedrop-e2e.example
  zonefile: "$d/probe/zonedrop-e2e.example.zone"
include: "$d/zonedrop.conf"
EOF
  nsd-checkconf "$d/nsd.conf" || return 1
  nsd -d -c "$d/nsd.conf" > "$d/nsd.stderr" 2>&1 3>&- &
  remember nsd $!
  NSD_DIR=$d NSD_CONF=$d/nsd.conf NSD_INCLUDE=$d/zonedrop.conf NSD_ZONES=$d/zones
  NSD_CONTROL="nsd-control -c $d/nsd.conf"
  export DNS_PORT NSD_DIR NSD_CONF NSD_INCLUDE NSD_ZONES NSD_CONTROL
  wait_until 30 "nsd on 127.0.0.1@$DNS_PORT" nsd_probe \
    || { tail -5 "$d/nsd.log" "$d/nsd.stderr" 2>/dev/null >&2; return 1; }
  wait_until 15 "nsd-control" nsd-control -c "$d/nsd.conf" status || return 1
}

# ---- zonedrop.yml -----------------------------------------------------------------

# write_config [PARENT_EXISTS [MAX_BODY [EXTRA_YAML]]]: $ZD_CONFIG for the NSD above
write_config() {
  local parent=${1:-3} max_body=${2:-1048576} extra=${3:-}
  cat > "$ZD_CONFIG.tmp" <<EOF
# written by tests/e2e/lib/servers.bash
spool_dir: $ZD_SPOOL
state_dir: $ZD_STATE
log_level: info
verify_timeout: 30s
receiver:
  users:
    - name: $ZD_USER
      password: "$ZD_PASS"
  max_body: $max_body
  parent_exists: $parent
backends:
  nsd1:
    type: nsd
    enabled: true
    zones_dir: $NSD_ZONES
    include_file: $NSD_INCLUDE
    control: "$NSD_CONTROL"
    verify: 127.0.0.1@$DNS_PORT
$extra
EOF
  mv -f "$ZD_CONFIG.tmp" "$ZD_CONFIG"
}

# ---- web servers ------------------------------------------------------------------

# start_lighttpd: lighttpd -D with mod_cgi running $ZONEDROP_BIN/zonedrop.cgi on
# 127.0.0.1:$HTTP_PORT (sets HTTP_PORT, ZD_URL, exported)
start_lighttpd() {
  # ZD_WEB=fastcgi: the same suite with zonedrop.cgi under mod_fastcgi (lib/fastcgi.bash)
  if [ "${ZD_WEB:-cgi}" = fastcgi ]; then start_lighttpd_fastcgi; return; fi
  local w=$T/lighttpd cgi=$ZONEDROP_BIN/zonedrop.cgi
  mkdir -p "$w/empty" "$w/upload"
  HTTP_PORT=$(free_ports 1)
  cat > "$w/lighttpd.conf" <<EOF
# written by tests/e2e/lib/servers.bash: zonedrop.cgi behind lighttpd's mod_cgi
server.modules = ( "mod_alias", "mod_cgi", "mod_setenv", "mod_accesslog" )
server.bind = "127.0.0.1"
server.port = $HTTP_PORT
server.document-root = "$w/empty"
server.errorlog = "$w/error.log"
server.breakagelog = "$w/cgi-stderr.log"
accesslog.filename = "$w/access.log"
server.pid-file = "$w/lighttpd.pid"
server.upload-dirs = ( "$w/upload" )
server.max-request-size = 8192
server.max-read-idle = 15
server.max-connections = 256
# hand query strings to the CGI as received, so hostile bytes reach zonedrop
server.http-parseopts = ( "url-ctrls-reject" => "disable", "url-normalize" => "disable" )
setenv.add-environment = ( "ZONEDROP_CONFIG" => "$ZD_CONFIG" )
alias.url = ( "/CMD_API_LOGIN_TEST" => "$cgi",
              "/CMD_API_DNS_ADMIN"  => "$cgi",
              "/internal"           => "$cgi",
              "/status"             => "$cgi",
              "/metrics"            => "$cgi" )
cgi.assign = ( ".cgi" => "" )
static-file.exclude-extensions = ( ".cgi" )
EOF
  lighttpd -tt -f "$w/lighttpd.conf" > "$w/check.log" 2>&1 || { cat "$w/check.log" >&2; return 1; }
  lighttpd -D -f "$w/lighttpd.conf" > "$w/lighttpd.stderr" 2>&1 3>&- &
  remember lighttpd $!
  ZD_URL=http://127.0.0.1:$HTTP_PORT
  export HTTP_PORT ZD_URL
  wait_until 15 "lighttpd on 127.0.0.1:$HTTP_PORT" tcp_open "$HTTP_PORT" \
    || { cat "$w/lighttpd.stderr" "$w/error.log" 2>/dev/null | tail -5 >&2; return 1; }
}

# nginx_site_conf EXAMPLE OUT SOCK PORT: examples/nginx.conf with our paths and port
nginx_site_conf() {
  local example=$1 out=$2 sock=$3 port=$4
  sed -E \
    -e "s#^([[:space:]]*listen)[[:space:]]+[^;]*;#\\1 127.0.0.1:$port;#" \
    -e "s#(fastcgi_pass)[[:space:]]+[^;]*;#\\1 unix:$sock;#" \
    -e "s#(fastcgi_param[[:space:]]+SCRIPT_FILENAME)[[:space:]]+[^;]*;#\\1 $ZONEDROP_BIN/zonedrop.cgi;#" \
    -e "s#(fastcgi_param[[:space:]]+ZONEDROP_CONFIG)[[:space:]]+[^;]*;#\\1 $ZD_CONFIG;#" \
    -e "s#(include[[:space:]]+)(/etc/nginx/)?(fastcgi_params|fastcgi\\.conf);#\\1$T/nginx/\\3;#" \
    -e "/^[[:space:]]*(access_log|error_log)[[:space:]]/d" \
    -e "/^[[:space:]]*(ssl_|listen[[:space:]].*ssl)/d" \
    "$example" > "$out"
  # a site snippet (server { }) is wrapped by our http { }; a whole nginx.conf is not supported
  if grep -qE '^[[:space:]]*(http|events)[[:space:]]*\{' "$out"; then
    echo "examples/nginx.conf is a whole nginx.conf; expected a server { } snippet" >&2
    return 1
  fi
  grep -q "ZONEDROP_CONFIG" "$out" \
    || sed -i -E "s#(fastcgi_pass[[:space:]]+[^;]*;)#\\1 fastcgi_param ZONEDROP_CONFIG $ZD_CONFIG;#" "$out"
}

# nginx_main_conf DIR: DIR/nginx.conf, an nginx.conf around DIR/site.conf with
# every path (pid, logs, temp files) inside DIR
nginx_main_conf() {
  local n=$1
  {
    echo "# written by tests/e2e/lib/servers.bash"
    [ "$(id -u)" = 0 ] && echo "user root root;"
    cat <<EOF
worker_processes 1;
pid $n/nginx.pid;
error_log $n/logs/error.log info;
events { worker_connections 256; }
http {
  access_log $n/logs/access.log;
  client_body_temp_path $n/tmp/body;
  fastcgi_temp_path $n/tmp/fastcgi;
  proxy_temp_path $n/tmp/proxy;
  uwsgi_temp_path $n/tmp/uwsgi;
  scgi_temp_path $n/tmp/scgi;
  include $n/site.conf;
}
EOF
  } > "$n/nginx.conf"
}

# start_nginx_fcgiwrap [EXAMPLE]: fcgiwrap on a unix socket and nginx -g 'daemon off;'
# on 127.0.0.1:$NGINX_PORT with the site from EXAMPLE (default examples/nginx.conf).
# Sets NGINX_PORT, NGINX_URL (exported).
start_nginx_fcgiwrap() {
  local example=${1:-$REPO/examples/nginx.conf} n=$T/nginx sock
  [ -f "$example" ] || { echo "no $example" >&2; return 1; }
  mkdir -p "$n/tmp" "$n/logs"
  sock=$n/fcgiwrap.sock
  NGINX_PORT=$(free_ports 1)
  cp /etc/nginx/fastcgi_params /etc/nginx/fastcgi.conf "$n/" 2>/dev/null || true
  nginx_site_conf "$example" "$n/site.conf" "$sock" "$NGINX_PORT" || return 1
  nginx_main_conf "$n"
  fcgiwrap -s "unix:$sock" > "$n/fcgiwrap.log" 2>&1 3>&- &
  remember fcgiwrap $!
  wait_until 10 "fcgiwrap socket $sock" test -S "$sock" || return 1
  nginx -t -p "$n/" -e "$n/logs/error.log" -c "$n/nginx.conf" > "$n/check.log" 2>&1 \
    || { cat "$n/check.log" >&2; return 1; }
  nginx -p "$n/" -e "$n/logs/error.log" -c "$n/nginx.conf" -g 'daemon off;' > "$n/nginx.stderr" 2>&1 3>&- &
  remember nginx $!
  NGINX_URL=http://127.0.0.1:$NGINX_PORT
  export NGINX_PORT NGINX_URL
  wait_until 15 "nginx on 127.0.0.1:$NGINX_PORT" tcp_open "$NGINX_PORT" \
    || { cat "$n/nginx.stderr" "$n/logs/error.log" 2>/dev/null | tail -5 >&2; return 1; }
}

# ---- DirectAdmin's requests -------------------------------------------------------

zdc() { "$PY" "$E2E_LIB/zdclient.py" --base "${ZD_URL_OVERRIDE:-$ZD_URL}" --user="$ZD_USER" --password="$ZD_PASS" "$@"; }

# da_zone DOMAIN SERIAL [IP] > FILE: a zone as DirectAdmin writes it
da_zone() { zdc zone "$1" "$2" --ip "${3:-192.0.2.10}"; }

# push DOMAIN FILE [zdclient push options]: rawsave as DirectAdmin sends it; prints "STATUS BODY"
push() { zdc push "$@"; }

# push_ok DOMAIN FILE [...]: push and insist on 200 error=0
push_ok() {
  local out
  out=$(zdc push "$@") || { echo "push $1: $out"; return 1; }
  case $out in "200 error=0"*) return 0 ;; esac
  echo "push $1 refused: $out"
  return 1
}

# push_curl DOMAIN FILE: the same with curl (HTTP/1.0, no Content-Type/User-Agent/Accept)
push_curl() {
  curl --http1.0 -sS -u "$ZD_USER:$ZD_PASS" -H 'Content-Type:' -H 'User-Agent:' -H 'Accept:' \
    --data-binary "@$2" -w ' %{http_code}' \
    "${ZD_URL_OVERRIDE:-$ZD_URL}/CMD_API_DNS_ADMIN?action=rawsave&domain=$1&hostname=da1.e2e.example&username=alice"
}

# delete_da DOMAIN... [--hostname H]: DirectAdmin's delete (select0.. in the body,
# no query string, no Content-Type); prints "STATUS BODY"
delete_da() { zdc delete "$@"; }

delete_ok() {
  local out
  out=$(zdc delete "$@") || { echo "delete: $out"; return 1; }
  case $out in "200 error=0"*) return 0 ;; esac
  echo "delete $* refused: $out"
  return 1
}

# exists DOMAIN [--parent] [--post]: prints the whole answer "STATUS BODY"
exists() { zdc exists "$@"; }

# exists_value DOMAIN [...]: prints N of exists=N (empty when none)
exists_value() {
  zdc exists "$@" | sed -n 's/.*[?& ]exists=\([0-9]*\).*/\1/p'
}

# ---- drain, spool, DNS ------------------------------------------------------------

# drain: one zonedrop-drain run, leaving $status and $output as bats' run does
# shellcheck disable=SC2154  # status and output are set by bats' run
drain() {
  if [ ! -x "$ZONEDROP_BIN/zonedrop-drain" ]; then
    status=127 output="$ZONEDROP_BIN/zonedrop-drain missing (run make)"
    return 0
  fi
  run timeout "$ZD_DRAIN_TIMEOUT" "$ZONEDROP_BIN/zonedrop-drain" -c "$ZD_CONFIG"
  { echo "== drain (exit $status): ${BATS_TEST_DESCRIPTION:-setup}"; echo "$output"; } >> "$T/drains.log"
}

drain_ok() {
  drain
  if [ "$status" -ne 0 ]; then
    echo "zonedrop-drain exited $status:"
    echo "$output" | tail -20
    return 1
  fi
}

spool_count() { find "$ZD_SPOOL/$1" -mindepth 1 -maxdepth 1 ! -name '.*' 2>/dev/null | wc -l; }
spool_names() { find "$ZD_SPOOL/$1" -mindepth 1 -maxdepth 1 ! -name '.*' -printf '%f\n' 2>/dev/null | sort; }

# dig_short NAME TYPE [PORT]: dig +short against our NSD
dig_short() {
  dig +short +norec +time=2 +tries=2 -p "${3:-$DNS_PORT}" @127.0.0.1 "$1" "$2"
}

soa_serial() { dig_short "$1" SOA | awk '{print $3}'; }

# served DOMAIN SERIAL: poll (up to 20 s) until NSD answers the SOA with SERIAL
served() {
  local got
  wait_until 20 "$1 served with serial $2" test_serial "$1" "$2" && return 0
  got=$(soa_serial "$1")
  echo "$1: SOA serial '${got:-none}', wanted $2"
  return 1
}
test_serial() { [ "$(soa_serial "$1")" = "$2" ]; }

# absent DOMAIN: poll until NSD gives no SOA answer for DOMAIN (zone not served)
# while it still answers the harness's probe zone (a dead NSD is not "absent")
absent() {
  wait_until 20 "$1 no longer served" test_absent "$1" && nsd_probe && return 0
  nsd_probe || { echo "NSD does not answer its probe zone any more"; return 1; }
  echo "$1 still served: $(dig_short "$1" SOA)"
  return 1
}
test_absent() { [ -z "$(dig +short +norec +time=2 +tries=2 -p "$DNS_PORT" @127.0.0.1 "$1" SOA)" ]; }

# expect_answer NAME TYPE ANSWER: poll until dig +short prints ANSWER (sorted, joined by |)
expect_answer() {
  wait_until 20 "$1 $2 = $3" test_answer "$1" "$2" "$3" && return 0
  echo "$1 $2: got '$(dig_short "$1" "$2" | sort | paste -sd'|' -)', wanted '$3'"
  return 1
}
test_answer() { [ "$(dig_short "$1" "$2" | sort | paste -sd'|' -)" = "$3" ]; }

# served_many / push_many: batches through zdclient (one dig -f for all names)
push_many() { zdc push-many "$@"; }
served_many() { zdc served-many --dns "127.0.0.1@$DNS_PORT" "$@"; }

# expect_files FILE.expect...: every answer listed is served (polled, see zdclient expect)
expect_files() { zdc expect --dns "127.0.0.1@$DNS_PORT" "$@"; }

# answer_is "STATUS BODY" STATUS [KEY=VALUE...]: the status and url-decoded keys of an
# answer as zdclient prints it; KEY=~TEXT means the value contains TEXT
answer_is() {
  "$PY" - "$@" <<'PY'
import sys, urllib.parse
line, want = sys.argv[1], sys.argv[2]
status, _, body = line.partition(" ")
bad = []
if status != want:
    bad.append("status %s, wanted %s" % (status, want))
try:
    keys = dict(urllib.parse.parse_qsl(body.strip(), keep_blank_values=True, strict_parsing=True))
except ValueError:
    keys = {}
    bad.append("body is not key=value&...: %r" % body)
for kv in sys.argv[3:]:
    k, _, v = kv.partition("=")
    got = keys.get(k)
    if v.startswith("~"):
        if got is None or v[1:] not in got:
            bad.append("%s=%r does not contain %r" % (k, got, v[1:]))
    elif got != v:
        bad.append("%s=%r, wanted %r" % (k, got, v))
if bad:
    print("answer %r: %s" % (line, "; ".join(bad)))
    sys.exit(1)
PY
}

# item_header ITEM_PATH NAME: the value of one header of a spool item
item_header() { sed '/^$/q' "$1" | sed -n "s/^$2: //p"; }

# shellcheck source=tests/e2e/lib/fastcgi.bash
. "$E2E_LIB/fastcgi.bash"
