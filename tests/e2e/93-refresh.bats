#!/usr/bin/env bats
# zonedrop-refresh: real NSD masters (one NSD on several 127.0.0.1 ports, each
# port one master), zonedrop-refresh + zonedrop-drain filling an NSD secondary.

load lib/servers
load lib/refresh

NZONES=${ZD_REFRESH_ZONES:-2000}

setup_file() {
  e2e_init
  start_nsd
  SECRET=$(head -c 32 /dev/urandom | base64)
  start_master_nsd 4 "$NZONES" "$SECRET"
  DEAD_PORT=$(free_ports 1)
  printf '%s\n' "$SECRET" > "$T/xfr-key.secret"
  {
    write_zones_file
    for i in 0 1 2 3 4; do echo "dead$i.refresh-e2e.test 127.0.0.1:$DEAD_PORT"; done
    echo "tsig.refresh-e2e.test 127.0.0.1:${MASTER_PORTS[0]} xfr-key"
  } > "$T/secondary.zones"
  write_config 3 1048576 "secondary:
  zones_file: $T/secondary.zones
  refresh_min: 1s
  refresh_max: 1h
  tsig_keys:
    - name: xfr-key
      algorithm: hmac-sha256
      secret_file: $T/xfr-key.secret"
  export SECRET DEAD_PORT
}
teardown_file() { e2e_cleanup; }
setup() { master_ports_load; }
teardown() { e2e_teardown; }

served_serial() {  # served_serial ZONE: the serial the secondary NSD serves
  dig +short +norec +time=2 +tries=1 -p "$DNS_PORT" @127.0.0.1 "$1" SOA | awk '{print $3}'
}

@test "first run transfers every zone; the dead master's zones fail without delaying the others" {
  run refresh
  [ "$status" -eq 1 ]
  echo "$output" | grep -q "master=127.0.0.1:$DEAD_PORT down"
  echo "$output" | grep -q "transferred=$((NZONES + 1)) failed=5"
  run "$ZONEDROP_BIN/zonedrop-drain" -c "$ZD_CONFIG"
  [ "$status" -eq 0 ]
  [ "$(served_serial "$(refresh_zone_name 0)")" = 1 ]
  [ "$(served_serial "$(refresh_zone_name $((NZONES - 1)))")" = 1 ]
  [ "$(served_serial tsig.refresh-e2e.test)" = 1 ]
  run "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" secondary list
  [ "$status" -eq 0 ]
  echo "$output" | grep -qE "^dead0\.refresh-e2e\.test	127\.0\.0\.1:$DEAD_PORT	-	failing	-	"
  echo "$output" | grep -qE "^tsig\.refresh-e2e\.test	127\.0\.0\.1:${MASTER_PORTS[0]}	xfr-key	(pending|fresh)	"
}

@test "status shows fresh and failing counts" {
  refresh -z tsig.refresh-e2e.test || true   # settles the drained transfer
  run "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" status
  [ "$status" -eq 0 ]
  echo "$output" | grep -qE "^secondary	zones=$((NZONES + 6))	fresh=[0-9]+	due=[0-9]+	failing=5	expired=0	"
  run "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" status --json
  [ "$(echo "$output" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["secondary"]["failing"])')" = 5 ]
}

@test "an unchanged serial causes no AXFR; a serial bump is transferred on the next due run" {
  local z0 z1 before0 before1
  z0=$(refresh_zone_name 7)
  z1=$(refresh_zone_name 8)
  before0=$(master_axfrs "$z0")
  before1=$(master_axfrs "$z1")
  [ "$before0" -ge 1 ]
  master_bump "$z1" 2
  run refresh -f
  echo "$output" | grep -q "changed=1 transferred=1"
  echo "$output" | grep -q "\[$z1\.\] .*serial=2 transferred"
  [ "$(master_axfrs "$z0")" = "$before0" ]
  [ "$(master_axfrs "$z1")" = $((before1 + 1)) ]
  run "$ZONEDROP_BIN/zonedrop-drain" -c "$ZD_CONFIG"
  [ "$status" -eq 0 ]
  [ "$(served_serial "$z1")" = 2 ]
  # and again: nothing changed, nothing transferred
  run refresh -f
  echo "$output" | grep -q "changed=0 transferred=0"
  [ "$(master_axfrs "$z1")" = $((before1 + 1)) ]
}

@test "zones not due are not queried" {
  run refresh
  echo "$output" | grep -qE "refresh done: zones=$((NZONES + 6)) due=[0-9]+ "
  # refresh 3600 s: only the failing dead zones (backed off) can be due
  echo "$output" | grep -qE "checked=0 "
}

@test "a wrong TSIG key is reported and nothing is spooled" {
  printf '%s\n' "$(head -c 32 /dev/urandom | base64)" > "$T/xfr-key.secret"
  master_bump tsig.refresh-e2e.test 5
  run refresh -f -z tsig.refresh-e2e.test
  [ "$status" -eq 1 ]
  echo "$output" | grep -qE "\[tsig\.refresh-e2e\.test\.\] .*(NOTAUTH|TSIG)"
  [ -z "$(ls "$ZD_SPOOL/new")" ]
  printf '%s\n' "$SECRET" > "$T/xfr-key.secret"
  run refresh -f -z tsig.refresh-e2e.test
  [ "$status" -eq 0 ]
  echo "$output" | grep -q "transferred=1"
  "$ZONEDROP_BIN/zonedrop-drain" -c "$ZD_CONFIG"
  [ "$(served_serial tsig.refresh-e2e.test)" = 5 ]
}

@test "a transfer the drain puts in bad/ is a failure, not an AXFR every run" {
  local z name before
  z=$(refresh_zone_name 11)
  master_bump "$z" 3
  run refresh -f -z "$z"
  [ "$status" -eq 0 ]
  name=$(echo "$output" | sed -n "s/.*\[$z\.\] .* item=\([^ ]*\) serial=3 transferred.*/\1/p")
  [ -n "$name" ]
  # as the drain does with an item it refuses
  mv "$ZD_SPOOL/new/$name" "$ZD_SPOOL/bad/$name"
  echo "zone check failed: test" > "$ZD_SPOOL/bad/$name.why"
  "$ZONEDROP_BIN/zonedrop-drain" -c "$ZD_CONFIG" || true
  before=$(master_axfrs "$z")
  run refresh -z "$z"
  [ "$status" -eq 1 ]
  echo "$output" | grep -q "rejected by the drain (item $name in bad/): zone check failed: test"
  [ "$(master_axfrs "$z")" = "$before" ]
  run "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" secondary list
  echo "$output" | grep -qE "^$z	.*	failing	"
}

@test "a master answering a bad AXFR (out-of-zone data) is rejected with a clear line" {
  local port
  port=$(free_ports 1)
  "$PY" "$E2E_LIB/badmaster.py" "$port" bad.refresh-e2e.test "$T" > "$T/badmaster.log" 2>&1 3>&- &
  remember badmaster $!
  wait_until 15 "bad master on $port" master_serves bad.refresh-e2e.test 7 "$port"
  echo "bad.refresh-e2e.test 127.0.0.1:$port" >> "$T/secondary.zones"
  run refresh -z bad.refresh-e2e.test
  [ "$status" -eq 1 ]
  echo "$output" | grep -qE "\[bad\.refresh-e2e\.test\.\] master=127\.0\.0\.1:$port AXFR: out-of-zone data: owner evil\.example\. is not in bad\.refresh-e2e\.test"
  [ -z "$(ls "$ZD_SPOOL/new")" ]
}

@test "secondary add and del edit the zones_file" {
  run "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" secondary add new.refresh-e2e.test "127.0.0.1:${MASTER_PORTS[1]}"
  [ "$status" -eq 0 ]
  grep -qx "new.refresh-e2e.test 127.0.0.1:${MASTER_PORTS[1]}" "$T/secondary.zones"
  run "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" secondary add new.refresh-e2e.test "127.0.0.1:${MASTER_PORTS[1]}"
  [ "$status" -eq 1 ]
  run "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" secondary add x.refresh-e2e.test "not-an-ip"
  [ "$status" -eq 2 ]
  run "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" secondary del new.refresh-e2e.test
  [ "$status" -eq 0 ]
  if grep -q "^new.refresh-e2e.test" "$T/secondary.zones"; then return 1; fi
  grep -q "^# secondary zones" "$T/secondary.zones"
}
