# tests/e2e/lib/fastcgi.bash -- zonedrop.cgi as a FastCGI application (load after
# lib/servers): lighttpd's mod_fastcgi spawning it, and nginx with spawn-fcgi.

# start_lighttpd_fastcgi [MAXPROCS]: lighttpd -D with mod_fastcgi spawning
# $ZONEDROP_BIN/zonedrop.cgi ("bin-path", MAXPROCS processes, default 2) on a unix
# socket; sets HTTP_PORT, ZD_URL, FCGI_SOCK (exported)
start_lighttpd_fastcgi() {
  local w=$T/lighttpd-fcgi cgi=$ZONEDROP_BIN/zonedrop.cgi procs=${1:-${ZD_FCGI_PROCS:-2}}
  mkdir -p "$w/empty" "$w/upload"
  HTTP_PORT=$(free_ports 1)
  FCGI_SOCK=$w/zonedrop.sock
  cat > "$w/lighttpd.conf" <<EOF
# written by tests/e2e/lib/fastcgi.bash: zonedrop.cgi under lighttpd's mod_fastcgi
server.modules = ( "mod_fastcgi", "mod_accesslog" )
server.bind = "127.0.0.1"
server.port = $HTTP_PORT
server.document-root = "$w/empty"
server.errorlog = "$w/error.log"
accesslog.filename = "$w/access.log"
server.pid-file = "$w/lighttpd.pid"
server.upload-dirs = ( "$w/upload" )
server.max-request-size = 8192
server.max-read-idle = 15
server.max-connections = 256
server.http-parseopts = ( "url-ctrls-reject" => "disable", "url-normalize" => "disable" )
\$HTTP["url"] =~ "^/(CMD_API_LOGIN_TEST|CMD_API_DNS_ADMIN|internal|status|metrics)" {
  fastcgi.server = ( "/" => ((
    "bin-path" => "$cgi",
    "socket" => "$FCGI_SOCK",
    "max-procs" => $procs,
    "check-local" => "disable",
    "fix-root-scriptname" => "enable",
    "bin-environment" => ( "ZONEDROP_CONFIG" => "$ZD_CONFIG" ),
  )) )
}
EOF
  lighttpd -tt -f "$w/lighttpd.conf" > "$w/check.log" 2>&1 || { cat "$w/check.log" >&2; return 1; }
  lighttpd -D -f "$w/lighttpd.conf" > "$w/lighttpd.stderr" 2>&1 3>&- &
  remember lighttpd $!
  ZD_URL=http://127.0.0.1:$HTTP_PORT
  export HTTP_PORT ZD_URL FCGI_SOCK
  wait_until 15 "lighttpd on 127.0.0.1:$HTTP_PORT" tcp_open "$HTTP_PORT" \
    || { cat "$w/lighttpd.stderr" "$w/error.log" 2>/dev/null | tail -5 >&2; return 1; }
  # lighttpd stops the processes it spawned; remembered too, in case it cannot
  wait_until 10 "zonedrop.cgi spawned by lighttpd" test -n "$(fastcgi_pids)" || return 1
  for p in $(fastcgi_pids); do remember zonedrop-fcgi "$p"; done
}

# fastcgi_pids: the zonedrop.cgi processes our lighttpd spawned
fastcgi_pids() {
  local lp
  lp=$(tail -1 "$ZD_PIDS/lighttpd")
  pgrep -P "$lp" -f zonedrop.cgi || true
}

# start_nginx_spawn_fcgi: zonedrop.cgi kept running by spawn-fcgi on a unix socket,
# nginx in front (site from examples/nginx.conf, fastcgi_pass pointed at it).
# Sets NGINX_PORT, NGINX_URL (exported).
start_nginx_spawn_fcgi() {
  local n=$T/nginx sock
  mkdir -p "$n/tmp" "$n/logs"
  sock=$n/zonedrop.sock
  NGINX_PORT=$(free_ports 1)
  cp /etc/nginx/fastcgi_params /etc/nginx/fastcgi.conf "$n/" 2>/dev/null || true
  nginx_site_conf "$REPO/examples/nginx.conf" "$n/site.conf" "$sock" "$NGINX_PORT" || return 1
  nginx_main_conf "$n"
  # -n: spawn-fcgi execs zonedrop.cgi in the foreground: the PID remembered is the CGI's
  ZONEDROP_CONFIG=$ZD_CONFIG spawn-fcgi -n -s "$sock" -M 0660 -- "$ZONEDROP_BIN/zonedrop.cgi" \
    > "$n/spawn-fcgi.log" 2>&1 3>&- &
  remember spawn-fcgi $!
  wait_until 10 "spawn-fcgi socket $sock" test -S "$sock" || { cat "$n/spawn-fcgi.log" >&2; return 1; }
  nginx -t -p "$n/" -e "$n/logs/error.log" -c "$n/nginx.conf" > "$n/check.log" 2>&1 \
    || { cat "$n/check.log" >&2; return 1; }
  nginx -p "$n/" -e "$n/logs/error.log" -c "$n/nginx.conf" -g 'daemon off;' > "$n/nginx.stderr" 2>&1 3>&- &
  remember nginx $!
  NGINX_URL=http://127.0.0.1:$NGINX_PORT
  export NGINX_PORT NGINX_URL
  wait_until 15 "nginx on 127.0.0.1:$NGINX_PORT" tcp_open "$NGINX_PORT" \
    || { cat "$n/nginx.stderr" "$n/logs/error.log" 2>/dev/null | tail -5 >&2; return 1; }
}
