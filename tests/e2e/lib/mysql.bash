# mysql.bash -- a private MariaDB (own datadir, socket and 127.0.0.1 port under $T)
# and a PowerDNS (gmysql) in front of it, for the MySQL backends' e2e tests.
# Load after lib/servers. Everything is stopped by PID (stop_pid) in e2e_cleanup.
#
#   start_mariadb NAME [tls]    -> MY_PORT_<NAME>, MY_SOCK_<NAME>, MY_PID_<NAME>;
#                                  databases pdns + coredns, user zd / $MY_PASS;
#                                  tls: TLS with make_tls_certs's certificate, and
#                                  user zd REQUIRE SSL (MY_TLS_<NAME>=1)
#   make_tls_certs              -> $T/tls/ca.pem (signed server.pem for IP 127.0.0.1),
#                                  $T/tls/other-ca.pem (a CA that signed nothing)
#   stop_mariadb NAME           -> mariadbd stopped (datadir kept)
#   restart_mariadb NAME        -> started again on the same port and datadir
#   start_pdns NAME             -> pdns_server on $DNS_PORT (PDNS_SOCKDIR, PDNS_CONTROL)
#   sql NAME DB QUERY           -> mariadb -N -B as user zd
# MY_INNODB_POOL, MY_INNODB_LOG: InnoDB buffer pool and redo log size (default 64M
# each; bench/mysql-drain sets more)
# shellcheck shell=bash

MY_PASS_FILE=${MY_PASS_FILE:-}
my_var() { eval "printf '%s' \"\${$1_$2:-}\""; }

# mariadb_run NAME: start mariadbd for an existing datadir (port already chosen)
mariadb_run() {
  local n=$1 dir=$T/mysql-$1 port tls=()
  port=$(my_var MY_PORT "$n")
  [ "$(my_var MY_TLS "$n")" = 1 ] && tls=(--ssl-ca="$T/tls/ca.pem" \
    --ssl-cert="$T/tls/server.pem" --ssl-key="$T/tls/server.key")
  mariadbd --no-defaults "${tls[@]}" --user=root --datadir="$dir/data" --socket="$dir/sock" \
    --port="$port" --bind-address=127.0.0.1 --pid-file="$dir/pid" \
    --log-error="$dir/error.log" --skip-name-resolve --innodb-buffer-pool-size="${MY_INNODB_POOL:-64M}" \
    --innodb-log-file-size="${MY_INNODB_LOG:-64M}" --innodb-flush-log-at-trx-commit=2 \
    --max-allowed-packet=64M >/dev/null 2>&1 &
  eval "MY_PID_$n=$!"
  export "MY_PID_$n"
  remember mariadb-"$n" $!
  wait_until 60 "mariadbd $n on port $port" mariadb-admin --no-defaults --socket="$dir/sock" \
    -uroot ping || { tail -20 "$dir/error.log" >&2; return 1; }
}

# make_tls_certs: a private CA and a certificate for 127.0.0.1 under $T/tls
make_tls_certs() {
  local d=$T/tls
  [ -e "$d/ca.pem" ] && return 0
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=zonedrop-e2e-ca -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null || return 1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=zonedrop-e2e-other-ca -keyout "$d/other-ca.key" -out "$d/other-ca.pem" 2>/dev/null || return 1
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj /CN=127.0.0.1 -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null || return 1
  printf 'subjectAltName=IP:127.0.0.1\n' > "$d/san.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -days 2 -extfile "$d/san.ext" -out "$d/server.pem" 2>/dev/null || return 1
}

start_mariadb() {
  local n=$1 dir=$T/mysql-$1
  mkdir -p "$dir"
  if [ "${2:-}" = tls ]; then
    make_tls_certs || return 1
    eval "MY_TLS_$n=1"
    export "MY_TLS_$n"
  fi
  if [ -z "$MY_PASS_FILE" ]; then
    MY_PASS=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(12))')
    MY_PASS_FILE=$T/mysql.pass
    printf '%s\n' "$MY_PASS" > "$MY_PASS_FILE"
    export MY_PASS MY_PASS_FILE
  fi
  mariadb-install-db --no-defaults --user=root --datadir="$dir/data" \
    --auth-root-authentication-method=socket --skip-test-db >"$dir/install.log" 2>&1 \
    || { tail -20 "$dir/install.log" >&2; return 1; }
  eval "MY_PORT_$n=$(free_ports 1)"
  eval "MY_SOCK_$n=$dir/sock"
  export "MY_PORT_$n" "MY_SOCK_$n"
  mariadb_run "$n" || return 1
  mariadb --no-defaults --socket="$dir/sock" -uroot <<EOF
CREATE DATABASE pdns;
CREATE DATABASE coredns;
CREATE USER 'zd'@'127.0.0.1' IDENTIFIED BY '$MY_PASS';
CREATE USER 'zd'@'localhost' IDENTIFIED BY '$MY_PASS';
GRANT ALL ON pdns.* TO 'zd'@'127.0.0.1';
GRANT ALL ON coredns.* TO 'zd'@'127.0.0.1';
GRANT ALL ON pdns.* TO 'zd'@'localhost';
GRANT ALL ON coredns.* TO 'zd'@'localhost';
EOF
  if [ "$(my_var MY_TLS "$n")" = 1 ]; then
    mariadb --no-defaults --socket="$dir/sock" -uroot \
      -e "ALTER USER 'zd'@'127.0.0.1' REQUIRE SSL; ALTER USER 'zd'@'localhost' REQUIRE SSL"
  fi
}

stop_mariadb() {
  local pid
  pid=$(my_var MY_PID "$1")
  [ -n "$pid" ] && stop_pid "$pid"
  ! kill -0 "$pid" 2>/dev/null
}

restart_mariadb() { mariadb_run "$1"; }

# mysql_backends_yaml: the backends pdns1 (powerdns_mysql, database pdns) and
# core1 (coredns_mysql, database coredns) on dc1, as zonedrop.yml lines under
# backends:; PDNS_CONTROL, PDNS_API_URL, PDNS_API_KEY_FILE and DNS_PORT when set
mysql_backends_yaml() {
  cat <<EOF
  pdns1:
    type: powerdns_mysql
    host: 127.0.0.1
    port: $(my_var MY_PORT dc1)
    database: pdns
    user: zd
    password_file: $MY_PASS_FILE
    control: "${PDNS_CONTROL:-true}"
    api_url: ${PDNS_API_URL:-http://127.0.0.1:1}
    api_key_file: ${PDNS_API_KEY_FILE:-$MY_PASS_FILE}
    verify: 127.0.0.1@${DNS_PORT:-1}
  core1:
    type: coredns_mysql
    host: 127.0.0.1
    port: $(my_var MY_PORT dc1)
    database: coredns
    user: zd
    password_file: $MY_PASS_FILE
EOF
}

sql() {
  local tls=()
  [ "$(my_var MY_TLS "$1")" = 1 ] && tls=(--ssl-ca="$T/tls/ca.pem")
  mariadb --no-defaults "${tls[@]}" -h 127.0.0.1 -P "$(my_var MY_PORT "$1")" -uzd -p"$MY_PASS" \
    -N -B "$2" -e "$3"
}

# start_pdns NAME: PowerDNS (gmysql on mariadb NAME, database pdns) on 127.0.0.1:$DNS_PORT
start_pdns() {
  local n=$1 dir=$T/pdns
  mkdir -p "$dir"
  read -r DNS_PORT PDNS_WEB_PORT < <(free_ports 2)
  PDNS_API_KEY=$("$PY" -c 'import secrets; print(secrets.token_hex(16))')
  printf '%s\n' "$PDNS_API_KEY" > "$dir/api.key"
  cat > "$dir/pdns.conf" <<EOF
launch=gmysql
gmysql-host=127.0.0.1
gmysql-port=$(my_var MY_PORT "$n")
gmysql-user=zd
gmysql-password=$MY_PASS
gmysql-dbname=pdns
local-address=127.0.0.1
local-port=$DNS_PORT
socket-dir=$dir
daemon=no
guardian=no
disable-syslog=yes
loglevel=4
webserver=yes
webserver-address=127.0.0.1
webserver-port=$PDNS_WEB_PORT
webserver-allow-from=127.0.0.0/8
api=yes
api-key=$PDNS_API_KEY
security-poll-suffix=
zone-cache-refresh-interval=300
EOF
  pdns_server --config-dir="$dir" > "$dir/pdns.log" 2>&1 &
  PDNS_PID=$!
  remember pdns $PDNS_PID
  PDNS_SOCKDIR=$dir
  PDNS_CONTROL="pdns_control --config-dir=$dir --socket-dir=$dir"
  PDNS_API_URL=http://127.0.0.1:$PDNS_WEB_PORT
  PDNS_API_KEY_FILE=$dir/api.key
  export DNS_PORT PDNS_SOCKDIR PDNS_CONTROL PDNS_API_URL PDNS_API_KEY_FILE
  wait_until 30 "pdns_server on port $DNS_PORT" $PDNS_CONTROL rping \
    || { tail -20 "$dir/pdns.log" >&2; return 1; }
}
