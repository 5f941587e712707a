#!/usr/bin/env bats
# zonedrop-refresh filling NSD, BIND and Knot at once (issue 8): one zonedrop.yml
# with nsd1, bind1 and knot1 (lib/multi), real NSD masters on loopback ports
# (lib/refresh). The first transfer and a serial bump are served by all three
# after the normal drain. Expiry: a master that stays dead past its zones' SOA
# expire (5 s here) leaves them "expired" in `zonedrop status` and `zonedrop
# secondary list`; with withdraw_expired: false they stay served, with true one
# delete per zone is spooled (once), drained, and they are gone from all three;
# when the master answers again they are transferred and served again.
# Tests build on each other (one spool, three servers, in file order).
load lib/servers
load lib/bind
load lib/knot
load lib/multi
load lib/refresh

NZ=${ZD_REFRESH_BACKEND_ZONES:-100}

# refresh_config WITHDRAW: $ZD_CONFIG for the three backends plus secondary:
refresh_config() {
  write_multi_config "[1s, 1s, 1s]" "secondary:
  zones_file: $T/secondary.zones
  refresh_min: 1s
  refresh_max: 1h
  per_master: 8
  query_timeout: 1s
  withdraw_expired: $1"
}

setup_file() {
  e2e_init
  start_three
  # the expiring master first: SOA refresh 1, retry 1, expire 5 (s)
  MASTER_NAME=xmaster MASTER_PREFIX=x MASTER_SOA="1 1 5 300" start_master_nsd 1 2
  XPORT=${MASTER_PORTS[0]} XPID=$MASTER_PID
  {
    MASTER_PREFIX=x write_zones_file
    # then the main master (MASTER_DIR, MASTER_CONF... name it from here on)
    start_master_nsd 2 "$NZ" >&2
    write_zones_file | tail -n +2
  } > "$T/secondary.zones"
  refresh_config false
  export XPORT XPID
}
teardown_file() { e2e_cleanup; }
setup() { master_ports_load; }
teardown() { e2e_teardown; }

zd() { "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" "$@"; }
xz() { refresh_zone_name "$1" x; }   # xz I: the expiring master's zone I

# secondary_state DOMAIN: its state word in `zonedrop secondary list`
secondary_state() { zd secondary list | awk -F'\t' -v d="$1" '$1 == d { print $4 }'; }
# refresh_expired DOMAIN: one refresh run, then DOMAIN is listed "expired"
refresh_expired() { refresh > /dev/null 2>&1 || true; [ "$(secondary_state "$1")" = expired ]; }

@test "refresh backends: the first transfer fills NSD, BIND and Knot through one drain" {
  run refresh
  [ "$status" -eq 0 ] || { echo "refresh exited $status: $(tail -20 <<<"$output")"; return 1; }
  echo "$output" | grep -q "transferred=$((NZ + 2)) failed=0"
  [ "$(spool_count new)" -eq $((NZ + 2)) ]
  drain_ok
  [ "$(spool_count new)" -eq 0 ] && [ "$(spool_count cur)" -eq 0 ]
  on_all served_now "$(refresh_zone_name 0)" 1
  on_all served_now "$(refresh_zone_name $((NZ - 1)))" 1
  on_all served_now "$(xz 0)" 1
  on_all served_now "$(xz 1)" 1
  on_all test_answer "www.$(refresh_zone_name $((NZ / 2)))" A 192.0.2.80
}

@test "refresh backends: a serial bump on the master is transferred and served by all three" {
  local z
  z=$(refresh_zone_name 5)
  master_bump "$z" 2 "new.$z. IN A 192.0.2.99"
  run refresh -f
  [ "$status" -eq 0 ] || { echo "refresh exited $status: $(tail -20 <<<"$output")"; return 1; }
  # the zone bumped, and the expiring ones (due every second, but refresh -f
  # asks all): only the bump is transferred
  echo "$output" | grep -q "changed=1 transferred=1 failed=0"
  echo "$output" | grep -q "\[$z\.\] .*serial=2 transferred"
  drain_ok
  on_all served_now "$z" 2
  on_all test_answer "new.$z" A 192.0.2.99
  on_all served_now "$(refresh_zone_name 6)" 1
  [ "$(secondary_state "$z")" = pending ]
  refresh -z "$z"   # settles: the drain took it
  [ "$(secondary_state "$z")" = fresh ]
}

@test "refresh backends: a master dead past its SOA expire: expired in status and list, still served (withdraw_expired: false)" {
  stop_pid "$XPID"
  wait_until 10 "the expiring master to stop" bash -c "! kill -0 $XPID 2>/dev/null"
  # expire is 5 s from the master's last answer: poll, one refresh per round
  wait_until 90 "$(xz 0) expired" refresh_expired "$(xz 0)" \
    || { zd secondary list | grep '^x'; return 1; }
  run refresh
  [ "$status" -eq 1 ]
  echo "$output" | grep -qE "\[$(xz 0)\.\] master=127\.0\.0\.1:$XPORT expired: serial 1 not confirmed since [0-9]+ \(expire 5s\)$"
  echo "$output" | grep -qE "refresh done: .* expired=2 withdrawn=0 "
  if grep -q "withdrawing" <<<"$output"; then echo "withdrawn with withdraw_expired: false"; return 1; fi
  [ "$(secondary_state "$(xz 1)")" = expired ]
  [ "$(secondary_state "$(refresh_zone_name 0)")" = fresh ]
  run zd status
  echo "$output" | grep -qE "^secondary	zones=$((NZ + 2))	fresh=[0-9]+	due=[0-9]+	failing=0	expired=2	"
  # nothing spooled: the zones stay on the backends
  [ "$(spool_count new)" -eq 0 ]
  drain_ok
  on_all served_now "$(xz 0)" 1
  on_all served_now "$(xz 1)" 1
}

@test "refresh backends: withdraw_expired: true spools one delete per expired zone, drained, gone from all three" {
  local f n
  refresh_config true
  run refresh
  [ "$status" -eq 1 ]
  echo "$output" | grep -qE "\[$(xz 0)\.\] .*expired: .*; withdrawing it"
  echo "$output" | grep -qE "\[$(xz 0)\.\] item=[^ ]+ action=delete source=refresh \(expired\)"
  echo "$output" | grep -qE "refresh done: .* withdrawn=2 "
  [ "$(spool_count new)" -eq 2 ]
  for f in "$ZD_SPOOL"/new/*; do
    [ "$(item_header "$f" Action)" = delete ]
    [ "$(item_header "$f" Source)" = refresh ]
    case $(item_header "$f" Domain) in "$(xz 0)"|"$(xz 1)") ;; *) return 1 ;; esac
  done
  # once: the next runs spool nothing more
  run refresh
  echo "$output" | grep -qE "refresh done: .* withdrawn=0 "
  [ "$(spool_count new)" -eq 2 ]
  drain_ok
  on_all absent_now "$(xz 0)"
  on_all absent_now "$(xz 1)"
  on_all served_now "$(refresh_zone_name 0)" 1
  n=$(zd status | grep -c "^secondary	.*	expired=2	") || true
  [ "$n" -eq 1 ]
  [ "$(secondary_state "$(xz 0)")" = expired ]
}

@test "refresh backends: the master answers again: the withdrawn zones are transferred and served again" {
  nsd -d -c "$T/xmaster/nsd.conf" >> "$T/xmaster/nsd.stderr" 2>&1 3>&- &
  remember xmaster $!
  wait_until 30 "the expiring master back on $XPORT" master_serves "$(xz 0)" 1 "$XPORT"
  run refresh -f
  [ "$status" -eq 0 ] || { echo "refresh exited $status: $(tail -20 <<<"$output")"; return 1; }
  echo "$output" | grep -q "transferred=2 failed=0"
  drain_ok
  on_all served_now "$(xz 0)" 1
  on_all served_now "$(xz 1)" 1
  # settled, confirmed by the master, not expired (whatever the time since)
  run refresh -f -z "$(xz 0)"
  [ "$status" -eq 0 ] || { echo "refresh exited $status: $output"; return 1; }
  echo "$output" | grep -qE "refresh done: .* unchanged=1 .* expired=0 withdrawn=0 "
  [ "$(secondary_state "$(xz 0)")" != expired ]
}
