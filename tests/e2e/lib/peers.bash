# peers.bash -- several zonedrop instances side by side for the peer-sync tests.
#
# Each instance NAME lives in $T/NAME (spool/, state/, nsd/, lighttpd/) with its
# own NSD, its own lighttpd + zonedrop.cgi and its own zonedrop.yml. Its
# variables (the ones servers.bash uses as globals: ZD_SPOOL, ZD_STATE,
# ZD_CONFIG, DNS_PORT, NSD_*, HTTP_PORT, ZD_URL) sit in $T/NAME/env, and
# `on NAME CMD...` runs CMD in a subshell with them, so the helpers of
# servers.bash (push_ok, served, absent, ...) work on any instance without
# the instances seeing each other's globals.
#   load lib/servers; load lib/peers
#   setup_file() { e2e_init; peers_init; inst_new A; inst_new B; }
# Processes are remembered by PID (lighttpd per instance as lighttpd-NAME) and
# stopped by PID, as servers.bash does.
# shellcheck shell=bash

# peers_init: the peer account every instance accepts and uses (PEER_USER/PEER_PASS)
peers_init() {
  PEER_USER=peer-e2e
  PEER_PASS=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(18))')
  printf '%s\n' "$PEER_PASS" > "$T/peer.pass"
  chmod 600 "$T/peer.pass"
  export PEER_USER PEER_PASS
}

# inst_new NAME: directories, NSD started, a port for the web server, env written
inst_new() {
  local n=$1 d=$T/$1
  mkdir -p "$d/spool/tmp" "$d/spool/new" "$d/spool/cur" "$d/spool/bad" "$d/state"
  (
    DNS_PORT=
    start_nsd "$d/nsd" >&2 || exit 1
    HTTP_PORT=$(free_ports 1)
    {
      echo "ZD_SPOOL=$d/spool ZD_STATE=$d/state ZD_CONFIG=$d/zonedrop.yml"
      echo "DNS_PORT=$DNS_PORT HTTP_PORT=$HTTP_PORT ZD_URL=http://127.0.0.1:$HTTP_PORT"
      echo "NSD_DIR=$NSD_DIR NSD_CONF=$NSD_CONF NSD_INCLUDE=$NSD_INCLUDE NSD_ZONES=$NSD_ZONES"
      echo "NSD_CONTROL='$NSD_CONTROL'"
      echo "INST=$n INST_DIR=$d"
      echo "export ZD_SPOOL ZD_STATE ZD_CONFIG DNS_PORT HTTP_PORT ZD_URL NSD_DIR NSD_CONF NSD_INCLUDE NSD_ZONES NSD_CONTROL INST INST_DIR"
    } > "$d/env"
  ) || return 1
}

# on NAME CMD...: CMD with instance NAME's variables
on() {
  local n=$1
  shift
  (
    # shellcheck disable=SC1090
    . "$T/$n/env"
    "$@"
  )
}

# shellcheck disable=SC1090
inst_url() { (. "$T/$1/env"; echo "$ZD_URL"); }

# inst_config NAME [REMOTE_NAME|URL[@USER]]...: zonedrop.yml for NAME with peers.users
# (PEER_USER) and these remotes (other instances by name, or any URL)
inst_config() {
  local n=$1 r url user extra
  shift
  extra="peers:
  users:
    - name: $PEER_USER
      password: \"$PEER_PASS\"
  remotes:"
  if [ $# -eq 0 ]; then
    extra="$extra []"
  fi
  for r in "$@"; do
    user=$PEER_USER
    case $r in
      http*@*) url=${r%@*} user=${r##*@} ;;
      http*) url=$r ;;
      *) url=$(inst_url "$r") ;;
    esac
    extra="$extra
    - url: $url
      user: $user
      password_file: $T/peer.pass"
  done
  on "$n" write_config 3 1048576 "$extra"
}

# inst_web_start NAME / inst_web_stop NAME: the instance's lighttpd (same port each time)
inst_web_start() {
  on "$1" _inst_web_start
}
_inst_web_start() {
  local w=$INST_DIR/lighttpd cgi=$ZONEDROP_BIN/zonedrop.cgi
  mkdir -p "$w/empty" "$w/upload"
  cat > "$w/lighttpd.conf" <<EOF
# written by tests/e2e/lib/peers.bash: instance $INST
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
setenv.add-environment = ( "ZONEDROP_CONFIG" => "$ZD_CONFIG" )
alias.url = ( "/CMD_API_LOGIN_TEST" => "$cgi",
              "/CMD_API_DNS_ADMIN"  => "$cgi",
              "/internal"           => "$cgi" )
cgi.assign = ( ".cgi" => "" )
static-file.exclude-extensions = ( ".cgi" )
EOF
  lighttpd -tt -f "$w/lighttpd.conf" > "$w/check.log" 2>&1 || { cat "$w/check.log" >&2; return 1; }
  lighttpd -D -f "$w/lighttpd.conf" > "$w/lighttpd.stderr" 2>&1 3>&- &
  echo $! > "$w/pid"
  remember "lighttpd-$INST" $!
  wait_until 15 "lighttpd of $INST on 127.0.0.1:$HTTP_PORT" tcp_open "$HTTP_PORT" \
    || { cat "$w/lighttpd.stderr" "$w/error.log" 2>/dev/null | tail -5 >&2; return 1; }
}

inst_web_stop() {
  local w=$T/$1/lighttpd port
  [ -f "$w/pid" ] && stop_pid "$(cat "$w/pid")"
  rm -f "$w/pid"
  port=$(on "$1" sh -c 'echo $HTTP_PORT')
  wait_until 15 "lighttpd of $1 gone" sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"
}

# inst_drain NAME: one drain; exit status of zonedrop-drain, output in $T/drains.log
inst_drain() {
  local rc=0
  {
    echo "== drain $1: ${BATS_TEST_DESCRIPTION:-setup}"
    on "$1" sh -c 'timeout "$ZD_DRAIN_TIMEOUT" "$ZONEDROP_BIN/zonedrop-drain" -c "$ZD_CONFIG" 2>&1' || rc=$?
    echo "== exit $rc"
  } >> "$T/drains.log"
  [ "$rc" -eq 0 ] || { echo "drain of $1 exited $rc:"; sed -n '/^== drain '"$1"'/,$p' "$T/drains.log" | tail -15; }
  return "$rc"
}

# inst_peersync NAME [ARGS]: zonedrop-peersync of NAME; output on stdout+stderr
inst_peersync() {
  local n=$1
  shift
  on "$n" sh -c 'timeout 300 "$ZONEDROP_BIN/zonedrop-peersync" -c "$ZD_CONFIG" "$@" 2>&1' sh "$@"
}

inst_zd() { local n=$1; shift; on "$n" sh -c '"$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" "$@"' sh "$@"; }

# inst_zoneset NAME: "domain serial" of every zone held, sorted (the desired state)
inst_zoneset() { inst_zd "$1" zones | awk '{print $1, $2}' | sort; }

# internal_get NAME PATH_AND_QUERY [USER:PASS]: curl to NAME's /internal; prints body,
# then a last line "HTTP <code>"
internal_get() {
  local url auth=${3:-$PEER_USER:$PEER_PASS}
  url=$(inst_url "$1")
  curl -sS -u "$auth" -w '\nHTTP %{http_code}\n' "$url$2"
}

# fake_peer_start: tests/e2e/lib/fakepeer.py on a free port (FAKE_URL, FAKE_LOG)
fake_peer_start() {
  local port
  port=$(free_ports 1)
  FAKE_LOG=$T/fakepeer.log
  : > "$FAKE_LOG"
  "$PY" "$E2E_LIB/fakepeer.py" --port "$port" --log "$FAKE_LOG" --workdir "$T" 3>&- &
  remember fakepeer $!
  FAKE_URL=http://127.0.0.1:$port
  export FAKE_URL FAKE_LOG
  wait_until 15 "fake peer on 127.0.0.1:$port" tcp_open "$port"
}
