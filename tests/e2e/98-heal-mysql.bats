# Healing of the MySQL backends (issue #5): rows damaged behind zonedrop's back
# in a private MariaDB -- records deleted, the SOA row set back to an old
# serial, the zone row deleted, a deleted zone inserted again, a record
# deleted, a record changed under the same serial -- for powerdns_mysql
# (answered by a real PowerDNS) and coredns_mysql. `zonedrop verify` names
# exactly the damaged zones (--deep: the records), zonedrop-reconcile -H marks
# them, the drain restores them, verify exits 0 and PowerDNS answers the
# desired serial. Tests build on each other.
load lib/servers
load lib/mysql

Z=heal-my.example
M=(m1 m2 m3 m4 m5 m6)
GONE=gone.$Z

zd() { "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" "$@"; }

write_heal_config() {
  cat > "$ZD_CONFIG.tmp" <<EOF
# written by tests/e2e/98-heal-mysql.bats
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
$(mysql_backends_yaml)
EOF
  mv -f "$ZD_CONFIG.tmp" "$ZD_CONFIG"
}

# hold DOMAIN...: push a generated zone (serial 2024010101) for each
hold() {
  local d
  for d in "$@"; do
    da_zone "$d" 2024010101 > "$T/$d.zone" || return 1
    zd push "$d" "$T/$d.zone" 2>/dev/null || { echo "push $d failed"; return 1; }
  done
}

setup_file() {
  e2e_init
  start_mariadb dc1 || return 1
  write_heal_config
  zd db-init pdns1 core1 || return 1
  start_pdns dc1 || return 1
  write_heal_config
  local m f
  for m in "${M[@]}"; do hold "$m.$Z" || return 1; done
  hold "$GONE" || return 1
  # the fixture zones (MX, SRV, TXT, CAA, wildcards, reverse): --deep must
  # find their rows and answers equal to the desired records
  for f in "$FIXTURES"/zones/*.zone; do
    zd push "$(basename "$f" .zone)" "$f" 2>/dev/null || return 1
  done
  drain_ok || return 1
  # what the rows of GONE were, to put them back after the delete
  sql dc1 pdns "SELECT r.name, r.type, r.content, r.ttl, r.prio FROM records r JOIN domains d ON d.id=r.domain_id WHERE d.name='$GONE'" > "$T/gone.pdns"
  sql dc1 coredns "SELECT r.hostname, r.type, r.data, r.ttl FROM records r JOIN zones z ON z.id=r.zone_id WHERE z.zone_name='$GONE.'" > "$T/gone.core"
  [ -s "$T/gone.pdns" ] && [ -s "$T/gone.core" ] || { echo "no rows for $GONE"; return 1; }
  zd delete "$GONE" 2>/dev/null || return 1
  drain_ok || return 1
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

# verify_run [ARGS]: zonedrop verify; $out its stdout (sorted), $vstatus its exit
verify_run() {
  vstatus=0
  zd verify "$@" > "$T/verify.stdout" 2> "$T/verify.stderr" || vstatus=$?
  out=$(sed '/^$/d' "$T/verify.stdout" | sort)
}

# reconcile [ARGS]: zonedrop-reconcile ($status, $output as bats run)
reconcile() {
  run timeout 300 "$ZONEDROP_BIN/zonedrop-reconcile" -c "$ZD_CONFIG" "$@"
  { echo "== reconcile $* (exit $status): $BATS_TEST_DESCRIPTION"; echo "$output"; } >> "$T/reconcile.log"
}

pdns_serial() { dig +short +norec +time=2 +tries=2 -p "$DNS_PORT" @127.0.0.1 "$1" SOA | awk '{print $3}'; }
pdns_a() { dig +short +norec +time=2 +tries=2 -p "$DNS_PORT" @127.0.0.1 "$1" A | sort | paste -sd'|' -; }

# ids of a zone in each database
pdns_id() { sql dc1 pdns "SELECT id FROM domains WHERE name='$1'"; }
core_id() { sql dc1 coredns "SELECT id FROM zones WHERE zone_name='$1.'"; }

@test "mysql verify: everything in place, exit 0, also with --deep (rows and PowerDNS answers)" {
  local out n
  n=$(( ${#M[@]} + $(ls "$FIXTURES"/zones/*.zone | wc -l) + 1 ))
  verify_run
  [ "$vstatus" -eq 0 ] && [ -z "$out" ] || { echo "exit $vstatus: $out"; cat "$T/verify.stderr"; return 1; }
  grep -q "verify done: backends=2 skipped=0 zones=$((2 * n)) mismatches=0" "$T/verify.stderr" \
    || { cat "$T/verify.stderr"; return 1; }
  verify_run --deep
  [ "$vstatus" -eq 0 ] && [ -z "$out" ] || { echo "exit $vstatus: $out"; cat "$T/verify.stderr"; return 1; }
}

@test "mysql: rows damaged behind zonedrop's back: verify names exactly those zones, exit 1" {
  local id
  # m1: all records deleted (the zone row stays)
  sql dc1 pdns "DELETE FROM records WHERE domain_id=$(pdns_id "m1.$Z")"
  sql dc1 coredns "DELETE FROM records WHERE zone_id=$(core_id "m1.$Z")"
  # m2: the SOA row back at an old serial
  sql dc1 pdns "UPDATE records SET content=REPLACE(content, ' 2024010101 ', ' 2023010101 ') WHERE domain_id=$(pdns_id "m2.$Z") AND type='SOA'"
  sql dc1 coredns "UPDATE records SET data=REPLACE(data, ' 2024010101 ', ' 2023010101 ') WHERE zone_id=$(core_id "m2.$Z") AND type='SOA'"
  # m3: the zone row deleted, and its records
  sql dc1 pdns "DELETE FROM records WHERE domain_id=$(pdns_id "m3.$Z"); DELETE FROM domains WHERE name='m3.$Z'"
  sql dc1 coredns "DELETE FROM records WHERE zone_id=$(core_id "m3.$Z"); DELETE FROM zones WHERE zone_name='m3.$Z.'"
  # m4: one record deleted (same serial: the row count differs)
  sql dc1 pdns "DELETE FROM records WHERE domain_id=$(pdns_id "m4.$Z") AND name='www.m4.$Z' AND type='A'"
  sql dc1 coredns "DELETE FROM records WHERE zone_id=$(core_id "m4.$Z") AND hostname='www' AND type='A'"
  # GONE: the deleted zone inserted again, with its old rows
  sql dc1 pdns "INSERT INTO domains (name, type) VALUES ('$GONE', 'NATIVE')"
  id=$(pdns_id "$GONE")
  while IFS=$'\t' read -r name type content ttl prio; do
    sql dc1 pdns "INSERT INTO records (domain_id, name, type, content, ttl, prio, disabled, auth) VALUES ($id, '$name', '$type', '${content//\'/\'\'}', $ttl, $prio, 0, 1)"
  done < "$T/gone.pdns"
  sql dc1 coredns "INSERT INTO zones (zone_name) VALUES ('$GONE.')"
  id=$(core_id "$GONE")
  while IFS=$'\t' read -r host type data ttl; do
    sql dc1 coredns "INSERT INTO records (zone_id, hostname, type, data, ttl, online) VALUES ($id, '$host', '$type', '${data//\'/\'\'}', $ttl, 1)"
  done < "$T/gone.core"
  $PDNS_CONTROL purge >/dev/null
  $PDNS_CONTROL rediscover >/dev/null
  [ "$(pdns_serial "m2.$Z")" = 2023010101 ] || { echo "m2: PowerDNS serves '$(pdns_serial "m2.$Z")'"; return 1; }
  [ -z "$(pdns_serial "m1.$Z")" ] || { echo "m1 still served"; return 1; }

  local out want
  verify_run
  [ "$vstatus" -eq 1 ] || { echo "exit $vstatus: $out"; cat "$T/verify.stderr"; return 1; }
  want=$(for b in core1 pdns1; do printf '%s\n' \
    "$b	$GONE	unwanted	-	2024010101" \
    "$b	m1.$Z	missing	2024010101	-" \
    "$b	m2.$Z	stale	2024010101	2023010101" \
    "$b	m3.$Z	missing	2024010101	-" \
    "$b	m4.$Z	differs	2024010101	2024010101"; done | sort)
  [ "$out" = "$want" ] || { echo "verify printed:"; echo "$out"; echo "wanted:"; echo "$want"; return 1; }
  # --deep names the records where the serial is right
  verify_run --deep --backend core1 "m4.$Z"
  [ "$vstatus" -eq 1 ] || { echo "exit $vstatus: $out"; return 1; }
  grep -qP "^core1\tm4\.$Z\tdiffers\t2024010101\t2024010101\t-www\.m4\.$Z\.\s+3600\s+IN\s+A\s+192\.0\.2\.10$" <<<"$out" \
    || { echo "deleted record not named: $out"; return 1; }
  [ "$(wc -l <<<"$out")" -eq 1 ] || { echo "$out"; return 1; }
  # one backend, one domain
  verify_run --backend pdns1 "m2.$Z"
  [ "$vstatus" -eq 1 ] && [ "$out" = "pdns1	m2.$Z	stale	2024010101	2023010101" ] || { echo "$out"; return 1; }
  verify_run --backend pdns1 "m5.$Z"
  [ "$vstatus" -eq 0 ] && [ -z "$out" ] || { echo "exit $vstatus: $out"; return 1; }
}

@test "mysql: reconcile -H -n reports and marks nothing; reconcile -H marks, the drain restores, verify exits 0" {
  reconcile -H -n
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  [ "$(grep -c '^heal' <<<"$output")" -eq 10 ] || { echo "$output"; return 1; }
  run zd zones --backend pdns1 --state pending
  [ -z "$output" ] || { echo "pending after a dry run: $output"; return 1; }

  reconcile -H
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  grep -q 'backends=2 backends_skipped=0 .* mismatches=10 healed=10' <<<"$output" \
    || { echo "no summary: $output"; return 1; }
  drain_ok
  local m out
  for m in m1 m2 m3 m4; do
    [ "$(pdns_serial "$m.$Z")" = 2024010101 ] || { echo "$m.$Z: PowerDNS serves '$(pdns_serial "$m.$Z")'"; return 1; }
  done
  [ "$(pdns_a "www.m4.$Z")" = 192.0.2.10 ]
  [ -z "$(pdns_serial "$GONE")" ] || { echo "$GONE still served by PowerDNS"; return 1; }
  [ -z "$(pdns_id "$GONE")" ] && [ -z "$(core_id "$GONE")" ]
  [ "$(sql dc1 pdns "SELECT COUNT(*) FROM domains WHERE name='m3.$Z'")" = 1 ]
  [ "$(sql dc1 coredns "SELECT COUNT(*) FROM records WHERE zone_id=$(core_id "m1.$Z") AND type='SOA'")" = 1 ]
  verify_run
  [ "$vstatus" -eq 0 ] && [ -z "$out" ] || { echo "exit $vstatus: $out"; cat "$T/verify.stderr"; return 1; }
  verify_run --deep
  [ "$vstatus" -eq 0 ] && [ -z "$out" ] || { echo "exit $vstatus: $out"; cat "$T/verify.stderr"; return 1; }
}

@test "mysql --deep: a record changed under the same serial; reconcile -D marks it, the drain restores it" {
  sql dc1 pdns "UPDATE records SET content='192.0.2.99' WHERE domain_id=$(pdns_id "m5.$Z") AND name='www.m5.$Z' AND type='A'"
  sql dc1 coredns "UPDATE records SET data='192.0.2.99' WHERE zone_id=$(core_id "m5.$Z") AND hostname='www' AND type='A'"
  # an MX priority changed in the prio column only (PowerDNS 4 reads it there)
  sql dc1 pdns "UPDATE records SET prio=20 WHERE domain_id=$(pdns_id "m6.$Z") AND type='MX'"
  $PDNS_CONTROL purge "m5.$Z\$" >/dev/null
  $PDNS_CONTROL purge "m6.$Z\$" >/dev/null
  [ "$(pdns_a "www.m5.$Z")" = 192.0.2.99 ]
  local out
  verify_run
  [ "$vstatus" -eq 0 ] && [ -z "$out" ] || { echo "the serial check saw something: $out"; return 1; }
  verify_run --deep
  [ "$vstatus" -eq 1 ] || { echo "exit $vstatus: $out"; cat "$T/verify.stderr"; return 1; }
  local b
  for b in core1 pdns1; do
    grep -qP "^$b\tm5\.$Z\tdiffers\t2024010101\t2024010101\t-www\.m5\.$Z\.\s+3600\s+IN\s+A\s+192\.0\.2\.10$" <<<"$out" \
      || { echo "$b: desired record not reported: $out"; return 1; }
    grep -qP "^$b\tm5\.$Z\tdiffers\t2024010101\t2024010101\t\+www\.m5\.$Z\.\s+3600\s+IN\s+A\s+192\.0\.2\.99$" <<<"$out" \
      || { echo "$b: row not reported: $out"; return 1; }
  done
  grep -qP "^pdns1\tm6\.$Z\tdiffers\t2024010101\t2024010101\t\+m6\.$Z\.\s+3600\s+IN\s+MX\s+20 mail\.m6\.$Z\.$" <<<"$out" \
    || { echo "MX prio not reported: $out"; return 1; }
  [ "$(wc -l <<<"$out")" -eq 6 ] || { echo "$out"; return 1; }

  # without -D reconcile sees nothing to heal
  reconcile -H
  [ "$status" -eq 0 ] && grep -q 'mismatches=0 healed=0' <<<"$output" || { echo "exit $status: $output"; return 1; }
  reconcile -H --deep
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  grep -q 'mismatches=3 healed=3' <<<"$output" || { echo "$output"; return 1; }
  grep -qP "^heal\tpdns1\tm5\.$Z\tdiffers\t2024010101\t2024010101\t\+www\.m5\.$Z\.\s+3600\s+IN\s+A\s+192\.0\.2\.99$" <<<"$output" \
    || { echo "$output"; return 1; }
  drain_ok
  [ "$(pdns_a "www.m5.$Z")" = 192.0.2.10 ]
  [ "$(sql dc1 coredns "SELECT data FROM records WHERE zone_id=$(core_id "m5.$Z") AND hostname='www' AND type='A'")" = 192.0.2.10 ]
  verify_run --deep
  [ "$vstatus" -eq 0 ] && [ -z "$out" ] || { echo "exit $vstatus: $out"; cat "$T/verify.stderr"; return 1; }
}

@test "mysql: a database that cannot be reached is skipped: verify and reconcile exit 1, nothing marked" {
  stop_mariadb dc1
  local out
  verify_run --backend core1
  [ "$vstatus" -eq 1 ] && [ -z "$out" ] || { echo "exit $vstatus: $out"; return 1; }
  grep -q 'backend=core1 not checked: backend core1: connect to 127.0.0.1' "$T/verify.stderr" \
    || { cat "$T/verify.stderr"; return 1; }
  reconcile -H -t 2
  [ "$status" -eq 1 ] || { echo "exit $status: $output"; return 1; }
  grep -q 'backends=0 backends_skipped=2' <<<"$output" || { echo "$output"; return 1; }
  run zd zones --backend core1 --state pending
  [ -z "$output" ] || { echo "marked while down: $output"; return 1; }
  restart_mariadb dc1
}
