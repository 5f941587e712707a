# MySQL backends (issue #4): powerdns_mysql rows answered by a real PowerDNS
# (gmysql) and coredns_mysql rows checked with the CoreDNS plugin's own query,
# in two private MariaDB servers (dc1, dc2). Tests build on each other.
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
  pdns1:
    type: powerdns_mysql
    host: 127.0.0.1
    port: $MY_PORT_dc1
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
    port: $MY_PORT_dc1
    database: coredns
    user: zd
    password_file: $MY_PASS_FILE
  core2:
    type: coredns_mysql
    host: 127.0.0.1
    port: $MY_PORT_dc2
    database: coredns
    user: zd
    password_file: $MY_PASS_FILE
EOF
  mv -f "$ZD_CONFIG.tmp" "$ZD_CONFIG"
}

setup_file() {
  e2e_init
  start_mariadb dc1
  start_mariadb dc2
  write_mysql_config
  "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" db-init pdns1 core1 core2
  start_pdns dc1
  write_mysql_config
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

@test "mysql: fixture zones are answered by PowerDNS like NSD would" {
  local f
  for f in "$FIXTURES"/zones/*.zone; do
    zd_push "$(basename "$f" .zone)" "$f"
  done
  drain_ok
  # (harbourview's expect lists the CNAME target of "shop A" as dig +short
  # prints it; zdclient keeps only A lines: checked with dig +short instead)
  expect_files $(ls "$FIXTURES"/zones/*.expect | grep -v harbourview)
  [ "$(dig_short shop.harbourview-apartments.com A | sort | paste -sd'|' -)" = \
    "203.0.113.88|www.harbourview-apartments.com." ]
  # row conventions: lower case, no trailing dot, NATIVE, MX priority in prio
  [ "$(sql dc1 pdns "SELECT type FROM domains WHERE name='alpha-bakery.co.nz'")" = NATIVE ]
  [ "$(sql dc1 pdns "SELECT prio, content, auth, ordername IS NULL FROM records WHERE name='alpha-bakery.co.nz' AND type='MX'")" = \
    "$(printf '10\tmail.alpha-bakery.co.nz\t1\t1')" ]
  [ "$(sql dc1 pdns "SELECT COUNT(*) FROM records WHERE name LIKE '%.' OR BINARY name <> LOWER(name)")" = 0 ]
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
  local i
  gen_big() {
    printf '$TTL 300\n@ IN SOA ns1.%s. hostmaster.%s. ( %s 3600 600 86400 300 )\n@ IN NS ns1.%s.\nns1 IN A 192.0.2.1\n' \
      "$BIG" "$BIG" "$1" "$BIG"
    for i in $(seq 1 20000); do printf 'h%d IN A 192.0.2.%d\n' "$i" $((i % 250 + 1)); done
  }
  gen_big 2026010101 > "$T/big1"
  zd_push "$BIG" "$T/big1"
  drain_ok
  [ "$(sql dc1 pdns "SELECT COUNT(*) FROM records r JOIN domains d ON d.id=r.domain_id WHERE d.name='$BIG'")" = 20003 ]
  gen_big 2026010102 > "$T/big2"
  zd_push "$BIG" "$T/big2"
  # a reader counts the zone's rows in a loop while the drain replaces them
  (
    while [ ! -e "$T/big.stop" ]; do
      sql dc1 pdns "SELECT COUNT(*) FROM records r JOIN domains d ON d.id=r.domain_id WHERE d.name='$BIG'"
      sql dc1 coredns "SELECT COUNT(*) FROM records r JOIN zones z ON z.id=r.zone_id WHERE z.zone_name='$BIG.'"
    done > "$T/big.counts"
  ) &
  local reader=$!
  drain_ok
  touch "$T/big.stop"
  wait "$reader"
  [ "$(now_serial "$BIG")" = 2026010102 ]
  [ "$(sort -u "$T/big.counts" | paste -sd' ' -)" = 20003 ] \
    || { echo "reader saw: $(sort | uniq -c < "$T/big.counts")"; false; }
  [ "$(wc -l < "$T/big.counts")" -ge 2 ]
}

@test "mysql: dc2 down: dc1 gets the zone in the same drain, dc2 retries; after restart -f converges" {
  zone "$B" 2026030101 192.0.2.30 > "$T/b1"
  stop_mariadb dc2
  zd_push "$B" "$T/b1"
  drain
  [ "$status" -eq 1 ]
  [ "$(now_serial "$B")" = 2026030101 ]
  [ -n "$(coredns_rows dc1 "$B" www A)" ]
  run zd status
  echo "$output" | grep -E "^backend	core2	.*(retry|pending)=[1-9]" \
    || { echo "$output"; false; }
  echo "$output" | grep -E "^backend	core1	.*retry=0	failed=0"
  restart_mariadb dc2
  run timeout "$ZD_DRAIN_TIMEOUT" "$ZONEDROP_BIN/zonedrop-drain" -c "$ZD_CONFIG" -f
  [ "$status" -eq 0 ] || { echo "$output" | tail; false; }
  [ "$(coredns_rows dc2 "$B" www A)" = "192.0.2.30	3600" ]
}
