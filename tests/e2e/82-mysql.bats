# MySQL backends (issue #4): powerdns_mysql rows answered by a real PowerDNS
# (gmysql) and coredns_mysql rows checked with the CoreDNS plugin's own query,
# in two private MariaDB servers (dc1; dc2 speaks TLS only), next to an NSD
# fed by the same drain (the reference answers). Zones come in through the CGI
# (lighttpd) or `zonedrop push`. Tests build on each other.
load lib/servers
load lib/mysql

A=pdns-a.e2e.example
B=pdns-b.e2e.example
BIG=pdns-big.e2e.example

zd() { "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" "$@"; }
zone() { da_zone "$@"; }
zd_push() {
  run zd push "$1" "$2"
  [ "$status" -eq 0 ] || { echo "zonedrop push $1 exited $status: $output"; return 1; }
}

write_mysql_config() {
  cat > "$ZD_CONFIG.tmp" <<EOF
# written by tests/e2e/82-mysql.bats
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
  nsd1:
    type: nsd
    zones_dir: $NSD_ZONES
    include_file: $NSD_INCLUDE
    control: "$NSD_CONTROL"
    verify: 127.0.0.1@$NSD_PORT
$(mysql_backends_yaml)
  core2:
    type: coredns_mysql
    host: 127.0.0.1
    port: $MY_PORT_dc2
    database: coredns
    user: zd
    password_file: ${CORE2_PASS_FILE:-$MY_PASS_FILE}
    tls: {ca_file: ${CORE2_CA:-$T/tls/ca.pem}, verify: true}
EOF
  mv -f "$ZD_CONFIG.tmp" "$ZD_CONFIG"
}

setup_file() {
  e2e_init
  # NSD first, on its own port: start_pdns sets DNS_PORT for PowerDNS
  start_nsd
  NSD_PORT=$DNS_PORT
  unset DNS_PORT
  export NSD_PORT
  start_mariadb dc1
  start_mariadb dc2 tls
  write_mysql_config
  "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" db-init pdns1 core1 core2
  start_pdns dc1
  write_mysql_config
  start_lighttpd
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

# coredns_rows DB DOMAIN HOST TYPE: the plugin's lookup (PROTOCOL.md section 9), data|ttl
coredns_rows() {
  local zid
  zid=$(sql "$1" coredns "SELECT id FROM zones WHERE zone_name='$2.'")
  [ -n "$zid" ] || return 0
  sql "$1" coredns "SELECT data, ttl FROM records WHERE online!=0 and zone_id=$zid and hostname='$3' and type='$4'" \
    | sort | paste -sd'|' -
}

now_serial() { dig +short +norec +time=2 +tries=1 -p "$DNS_PORT" @127.0.0.1 "$1" SOA | awk '{print $3}'; }

@test "mysql: db-init creates the tables and is idempotent; an empty drain exits 0" {
  run zd db-init pdns1 core1 core2
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [ "$(sql dc1 pdns "SHOW TABLES" | sort | paste -sd' ' -)" = \
    "comments cryptokeys domainmetadata domains records supermasters tsigkeys" ]
  [ "$(sql dc2 coredns "SHOW TABLES" | sort | paste -sd' ' -)" = "records zones" ]
  run zd db-init nope
  [ "$status" -eq 2 ]
  drain_ok
}

# answers NAME_TYPE_FILE PORT: every "name type" of the file asked in one dig
# batch; the answer sections, TTLs included, sorted
answers() {
  dig -p "$2" @127.0.0.1 +norec +noall +answer +time=2 +tries=2 -f "$1" | sort
}

@test "mysql: every corpus zone pushed through the CGI is answered by PowerDNS exactly as NSD answers it" {
  local f d
  for f in "$FIXTURES"/zones/*.zone; do
    d=$(basename "$f" .zone)
    push_ok "$d" "$f"
  done
  drain_ok
  # every name and type the corpus's .expect files list, asked of both servers
  cat "$FIXTURES"/zones/*.expect | awk '!/^[#!]/ && NF >= 2 {print $1, $2}' | sort -u > "$T/qs"
  [ "$(wc -l < "$T/qs")" -gt 100 ]
  answers "$T/qs" "$NSD_PORT" > "$T/ans.nsd"
  answers "$T/qs" "$DNS_PORT" > "$T/ans.pdns"
  [ "$(wc -l < "$T/ans.nsd")" -gt 100 ]
  diff "$T/ans.nsd" "$T/ans.pdns" || { echo "PowerDNS (>) differs from NSD (<)"; false; }
  # and as the corpus expects them (harbourview's expect lists the CNAME
  # target of "shop A" as dig +short prints it; zdclient keeps only A lines)
  expect_files $(ls "$FIXTURES"/zones/*.expect | grep -v harbourview)
  [ "$(dig_short shop.harbourview-apartments.com A | sort | paste -sd'|' -)" = \
    "203.0.113.88|www.harbourview-apartments.com." ]
  # row conventions: lower case, no trailing dot, NATIVE, MX priority in prio
  [ "$(sql dc1 pdns "SELECT type FROM domains WHERE name='alpha-bakery.co.nz'")" = NATIVE ]
  [ "$(sql dc1 pdns "SELECT prio, content, auth, ordername IS NULL FROM records WHERE name='alpha-bakery.co.nz' AND type='MX'")" = \
    "$(printf '10\tmail.alpha-bakery.co.nz\t1\t1')" ]
  [ "$(sql dc1 pdns "SELECT COUNT(*) FROM records WHERE name LIKE '%.' OR BINARY name <> LOWER(name)")" = 0 ]
  [ "$(sql dc1 pdns "SELECT COUNT(*) FROM records WHERE disabled<>0 OR auth<>1")" = 0 ]
}

@test "mysql: a new, a changed and a deleted zone are served right after the drain" {
  zone "$A" 2026010101 192.0.2.1 > "$T/a1"
  zd_push "$A" "$T/a1"
  drain_ok
  [ "$(now_serial "$A")" = 2026010101 ]
  [ "$(dig_short "www.$A" A)" = 192.0.2.1 ]
  zone "$A" 2026010102 192.0.2.2 > "$T/a2"
  zd_push "$A" "$T/a2"
  drain_ok
  [ "$(now_serial "$A")" = 2026010102 ]
  [ "$(dig_short "www.$A" A)" = 192.0.2.2 ]
  run zd delete "$A"
  [ "$status" -eq 0 ]
  drain_ok
  gone=$(dig +short +norec +time=2 +tries=1 -p "$DNS_PORT" @127.0.0.1 "$A" SOA)
  [ -z "$gone" ] || { echo "$A still served: $gone"; false; }
  [ "$(sql dc1 pdns "SELECT COUNT(*) FROM domains WHERE name='$A'")" = 0 ]
  [ "$(sql dc1 pdns "SELECT COUNT(*) FROM records WHERE name LIKE '%$A'")" = 0 ]
  [ "$(sql dc1 coredns "SELECT COUNT(*) FROM zones WHERE zone_name='$A.'")" = 0 ]
}

@test "mysql: coredns rows answer the plugin's query (apex NS/SOA, wildcard, MX, CNAME)" {
  local z=glasshouse-cafe.de
  [ "$(coredns_rows dc1 $z @ SOA)" = \
    "ns1.hetzner-like.de. hostmaster.glasshouse-cafe.de. 2026021901 3600 3600 1209600 86400	3600" ]
  [ "$(coredns_rows dc1 $z @ NS)" = "ns1.hetzner-like.de.	3600|ns2.hetzner-like.de.	3600" ]
  [ "$(coredns_rows dc1 $z '*' A)" = "198.51.100.78	3600" ]
  [ "$(coredns_rows dc1 $z @ MX)" = "10 mail.glasshouse-cafe.de.	3600" ]
  [ "$(coredns_rows dc1 harbourview-apartments.com shop CNAME)" = "www.harbourview-apartments.com.	3600" ]
  [ "$(sql dc1 coredns "SELECT COUNT(*) FROM records WHERE online=0")" = 0 ]
  # the same zones in dc2
  [ "$(coredns_rows dc2 $z '*' A)" = "198.51.100.78	3600" ]
}

@test "mysql: a reader never sees a big zone half replaced" {
  gen_big() {  # gen_big SERIAL HOSTS
    printf '$TTL 300\n@ IN SOA ns1.%s. hostmaster.%s. ( %s 3600 600 86400 300 )\n@ IN NS ns1.%s.\nns1 IN A 192.0.2.1\n' \
      "$BIG" "$BIG" "$1" "$BIG"
    seq 1 "$2" | awk '{printf "h%d IN A 192.0.2.%d\n", $1, $1 % 250 + 1}'
  }
  # one statement = one consistent read: the zone's row count and SOA serial
  soa_serial_sql="SUBSTRING_INDEX(SUBSTRING_INDEX(%s,' ',3),' ',-1)"
  pq="SELECT 'p', COUNT(*), MAX(IF(r.type='SOA',$(printf "$soa_serial_sql" r.content),NULL)) FROM records r JOIN domains d ON d.id=r.domain_id WHERE d.name='$BIG'"
  cq="SELECT 'c', COUNT(*), MAX(IF(r.type='SOA',$(printf "$soa_serial_sql" r.data),NULL)) FROM records r JOIN zones z ON z.id=r.zone_id WHERE z.zone_name='$BIG.'"
  gen_big 2026010101 20000 > "$T/big1"
  zd_push "$BIG" "$T/big1"
  drain_ok
  [ "$(sql dc1 pdns "$pq")" = "$(printf 'p\t20003\t2026010101')" ]
  [ "$(sql dc1 coredns "$cq")" = "$(printf 'c\t20003\t2026010101')" ]
  # the new version has one row more
  gen_big 2026010102 20001 > "$T/big2"
  zd_push "$BIG" "$T/big2"
  # a reader reads the zone in a loop while the drain replaces it
  (
    while [ ! -e "$T/big.stop" ]; do
      sql dc1 pdns "$pq"
      sql dc1 coredns "$cq"
    done > "$T/big.reads"
  ) &
  local reader=$!
  drain_ok
  touch "$T/big.stop"
  wait "$reader"
  [ "$(now_serial "$BIG")" = 2026010102 ]
  # only ever the whole old or the whole new zone, and the new one at the end
  run sort -u "$T/big.reads"
  printf '%s\n' "$output" | while IFS= read -r line; do
    case $line in
      "$(printf 'p\t20003\t2026010101')"|"$(printf 'p\t20004\t2026010102')") ;;
      "$(printf 'c\t20003\t2026010101')"|"$(printf 'c\t20004\t2026010102')") ;;
      *) echo "reader saw a partial zone: '$line' ($(grep -cxF "$line" "$T/big.reads") time(s))"; exit 1 ;;
    esac
  done
  [ "$(grep '^p' "$T/big.reads" | tail -1)" = "$(printf 'p\t20004\t2026010102')" ]
  [ "$(grep '^c' "$T/big.reads" | tail -1)" = "$(printf 'c\t20004\t2026010102')" ]
  [ "$(wc -l < "$T/big.reads")" -ge 2 ]
}

# drain_until_core2 DOMAIN ROWS: one plain drain (due retries only), then the row check
drain_until_core2() {
  timeout "$ZD_DRAIN_TIMEOUT" "$ZONEDROP_BIN/zonedrop-drain" -c "$ZD_CONFIG" >> "$T/drains.log" 2>&1
  [ "$(coredns_rows dc2 "$1" www A)" = "$2" ]
}

@test "mysql: dc2 down: dc1 gets the zone in the same drain, dc2 retries and converges after restart" {
  zone "$B" 2026030101 192.0.2.30 > "$T/b1"
  stop_mariadb dc2
  zd_push "$B" "$T/b1"
  drain
  [ "$status" -eq 1 ]
  echo "$output" | grep -q "core2.*connect to 127.0.0.1:$MY_PORT_dc2" || { echo "$output"; false; }
  [ "$(now_serial "$B")" = 2026030101 ]
  [ -n "$(coredns_rows dc1 "$B" www A)" ]
  run zd status
  echo "$output" | grep -E "^backend	core2	.*(retry|pending)=[1-9]" \
    || { echo "$output"; false; }
  echo "$output" | grep -E "^backend	core1	.*retry=0	failed=0"
  restart_mariadb dc2
  # no -f: the retry schedule (1s steps here) brings the zone to dc2
  wait_until 60 "$B in dc2 after its restart" drain_until_core2 "$B" "192.0.2.30	3600"
  run zd status
  echo "$output" | grep -E "^backend	core2	.*retry=0	failed=0" || { echo "$output"; false; }
}

@test "mysql: TLS: dc2 takes TLS only, a foreign CA is refused, a missing ca_file is named" {
  # zonedrop wrote dc2's rows above; its user may not connect without TLS
  [ -n "$(coredns_rows dc2 glasshouse-cafe.de '*' A)" ]
  run mariadb --no-defaults --skip-ssl -h 127.0.0.1 -P "$MY_PORT_dc2" -uzd -p"$MY_PASS" -N -B coredns -e 'SELECT 1'
  [ "$status" -ne 0 ]
  echo "$output" | grep -q "Access denied"
  CORE2_CA=$T/tls/other-ca.pem write_mysql_config
  run zd db-init core2
  [ "$status" -eq 1 ]
  echo "$output" | grep -q "backend core2: connect to 127.0.0.1:$MY_PORT_dc2: .*" || { echo "$output"; false; }
  echo "$output" | grep -qiE "certificate|verif|ssl|tls" || { echo "$output"; false; }
  CORE2_CA=$T/tls/missing-ca.pem write_mysql_config
  run zd db-init core2
  [ "$status" -eq 1 ]
  [[ "$output" == *"backend core2: tls.ca_file $T/tls/missing-ca.pem: No such file or directory"* ]] \
    || { echo "$output"; false; }
  # a drain reports the zone failed on core2 with the same reason; dc1 is served
  zone "$A" 2026040101 192.0.2.40 > "$T/a4"
  zd_push "$A" "$T/a4"
  drain
  [ "$status" -eq 1 ]
  echo "$output" | grep -q "backend=core2.*tls.ca_file" || { echo "$output"; false; }
  [ "$(now_serial "$A")" = 2026040101 ]
  write_mysql_config
  run timeout "$ZD_DRAIN_TIMEOUT" "$ZONEDROP_BIN/zonedrop-drain" -c "$ZD_CONFIG" -f
  [ "$status" -eq 0 ] || { echo "$output" | tail; false; }
  [ "$(coredns_rows dc2 "$A" www A)" = "192.0.2.40	3600" ]
}

@test "mysql: password_file: first line only (LF or CRLF), a missing file and a wrong password are named" {
  printf '%s\r\n' "$MY_PASS" > "$T/pass.crlf"
  CORE2_PASS_FILE=$T/pass.crlf write_mysql_config
  run zd db-init core2
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  printf '%s' "$MY_PASS" > "$T/pass.nonl"
  CORE2_PASS_FILE=$T/pass.nonl write_mysql_config
  run zd db-init core2
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  CORE2_PASS_FILE=$T/no-such.pass write_mysql_config
  run zd db-init core2
  [ "$status" -eq 1 ]
  [[ "$output" == *"backend core2: password_file: "*"$T/no-such.pass"* ]] || { echo "$output"; false; }
  printf 'not-%s\n' "$MY_PASS" > "$T/pass.wrong"
  CORE2_PASS_FILE=$T/pass.wrong write_mysql_config
  run zd db-init core2
  [ "$status" -eq 1 ]
  [[ "$output" == *"backend core2: connect to 127.0.0.1:$MY_PORT_dc2: Access denied"* ]] \
    || { echo "$output"; false; }
  # the password never shows in what zonedrop prints
  [[ "$output" != *"$MY_PASS"* ]]
  write_mysql_config
  run zd db-init core2
  [ "$status" -eq 0 ]
}
