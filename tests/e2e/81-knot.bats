# Knot DNS backend (type: knot) against a real knotd: zones added and removed
# in one knotc conf transaction per drain, changed zones by zone-reload, a zone
# kzonecheck refuses (zonedrop's own check accepts it), the same refused by
# knotd's loader in a batch too big for a checker per zone, knotd down and
# back, a stale open transaction, a drain killed inside the transaction, and
# knotd restarted from its text config + zonedrop's include_file. A last test
# runs a second knotd from a confdb without include_file, as the conformance
# kit does. Tests build on each other (one knotd, one spool, in file order).
load lib/servers
load lib/knot

A=knot-a.e2e.example
B=knot-b.e2e.example
C=knot-c.e2e.example

setup_file() {
  e2e_init
  start_knot
  write_knot_config
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

zd() { "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" "$@"; }

# zone DOMAIN SERIAL [IP] > FILE: a zone in DirectAdmin's format
zone() { da_zone "$@"; }

# zd_push DOMAIN FILE: spool it with the CLI (the same checks as the CGI)
zd_push() {
  run zd push "$1" "$2"
  [ "$status" -eq 0 ] || { echo "zonedrop push $1 exited $status: $output"; return 1; }
}

# dname_zone DOMAIN SERIAL > FILE: a record below a DNAME. zonedrop's ldns check
# accepts it; Knot's loader (a mandatory semantic check) and kzonecheck refuse it.
dname_zone() {
  cat <<EOF
\$TTL 3600
@	IN	SOA	ns1.$1.	hostmaster.$1. ( $2 3600 3600 1209600 86400 )
@	IN	NS	ns1.$1.
ns1	IN	A	192.0.2.60
www	IN	A	192.0.2.61
old	IN	DNAME	example.net.
www.old	IN	A	192.0.2.62
EOF
}

# gone_now DOMAIN: no SOA answer at once (no polling: the drain verified it)
gone_now() {
  [ -z "$(dig +short +norec +time=2 +tries=1 -p "$DNS_PORT" @127.0.0.1 "$1" SOA)" ] \
    || { echo "$1 still served right after the drain"; return 1; }
}

@test "knot: knotd answers its probe zone; the include starts empty; an empty drain exits 0" {
  nsd_probe
  [ ! -s "$KNOT_INCLUDE" ]
  drain_ok
}

@test "add: three zones, one drain, one conf transaction, all served with absolute file paths" {
  local d
  zone "$A" 2026070101 192.0.2.11 > "$BATS_TEST_TMPDIR/a"
  zone "$B" 2026070101 192.0.2.12 > "$BATS_TEST_TMPDIR/b"
  zone "$C" 2026070101 192.0.2.13 > "$BATS_TEST_TMPDIR/c"
  zd_push "$A" "$BATS_TEST_TMPDIR/a"
  zd_push "$B" "$BATS_TEST_TMPDIR/b"
  zd_push "$C" "$BATS_TEST_TMPDIR/c"
  knot_log_mark
  drain_ok
  for d in "$A" "$B" "$C"; do
    served "$d" 2026070101
    in_include "$d" || { echo "$d not in $KNOT_INCLUDE"; cat "$KNOT_INCLUDE"; return 1; }
    [ -f "$KNOT_ZONES/$d.zone" ] || { echo "no $KNOT_ZONES/$d.zone"; ls -la "$KNOT_ZONES"; return 1; }
    [ "$(knotc -s "$KNOT_SOCK" conf-read "zone[$d].file")" = "zone[$d.].file = $KNOT_ZONES/$d.zone" ] \
      || { echo "zone[$d].file:"; knotc -s "$KNOT_SOCK" conf-read "zone[$d]"; return 1; }
  done
  expect_answer "www.$B" A 192.0.2.12
  # one transaction for the batch
  [ "$(knot_commands | grep -c '^conf-begin$')" -eq 1 ] || { echo "commands:"; knot_commands; return 1; }
  [ "$(knot_commands | grep -c '^conf-commit$')" -eq 1 ] || { echo "commands:"; knot_commands; return 1; }
  # the include is Knot text syntax, every zone with its file, nothing else
  knotc -c "$KNOT_CONF" conf-check || { cat "$KNOT_INCLUDE"; return 1; }
  if grep -v '^#' "$KNOT_INCLUDE" | grep -vqE '^(zone:|  - domain: "[a-z0-9.-]+"|    file: "/[^"]+\.zone")$'; then
    echo "unexpected include line:"; cat "$KNOT_INCLUDE"; return 1
  fi
  # no temp or backup files left behind
  [ -z "$(find "$KNOT_ZONES" -mindepth 1 ! -regex '.*/[a-z0-9.-]+\.zone')" ] || { ls -A "$KNOT_ZONES"; return 1; }
}

@test "change: a bumped serial is served after the drain, by zone-reload, without a conf transaction" {
  zone "$A" 2026070102 192.0.2.21 > "$BATS_TEST_TMPDIR/a"
  zd_push "$A" "$BATS_TEST_TMPDIR/a"
  knot_log_mark
  drain_ok
  served "$A" 2026070102
  expect_answer "www.$A" A 192.0.2.21
  knot_commands | grep -qx "zone-reload $A" || { echo "no 'zone-reload $A':"; knot_commands; return 1; }
  ! knot_commands | grep -qx 'conf-begin' || { echo "a transaction for a change:"; knot_commands; return 1; }
  ! knot_commands | grep -qx 'reload' || { echo "a full reload:"; knot_commands; return 1; }
  served "$B" 2026070101
}

@test "delete: the zone is gone right after that drain, its file and include entry too" {
  run zd delete "$C"
  [ "$status" -eq 0 ] || { echo "zonedrop delete exited $status: $output"; return 1; }
  knot_log_mark
  drain_ok
  gone_now "$C"
  absent "$C"
  ! knot_zones | grep -qx "$C" || { echo "$C still in knotd's configuration"; return 1; }
  ! in_include "$C" || { echo "$C still in the include"; return 1; }
  [ ! -e "$KNOT_ZONES/$C.zone" ] || { echo "$KNOT_ZONES/$C.zone left behind"; return 1; }
  knot_commands | grep -qx 'conf-unset' || { echo "no conf-unset:"; knot_commands; return 1; }
  served "$A" 2026070102
  served "$B" 2026070101
}

@test "a zone kzonecheck refuses (record below a DNAME), zonedrop's check accepts: drain exit 1, reason shown, the rest served" {
  local bad=knot-refused.e2e.example good=knot-good.e2e.example
  dname_zone "$bad" 2026070201 > "$BATS_TEST_TMPDIR/bad"
  run kzonecheck -o "$bad" "$BATS_TEST_TMPDIR/bad"
  [ "$status" -ne 0 ] || { echo "kzonecheck accepts it: not a test"; return 1; }
  zd_push "$bad" "$BATS_TEST_TMPDIR/bad"
  zone "$good" 2026070201 192.0.2.32 > "$BATS_TEST_TMPDIR/good"
  zd_push "$good" "$BATS_TEST_TMPDIR/good"
  drain
  [ "$status" -eq 1 ] || { echo "drain exited $status, wanted 1: $output"; return 1; }
  grep -q "$bad" <<<"$output" || { echo "the refused zone is not named: $output"; return 1; }
  grep -qi "DNAME" <<<"$output" || { echo "kzonecheck's reason is not shown: $output"; return 1; }
  served "$good" 2026070201
  expect_answer "www.$good" A 192.0.2.32
  absent "$bad"
  ! knot_zones | grep -qx "$bad" || { echo "refused zone in knotd's configuration"; return 1; }
  ! in_include "$bad" || { echo "refused zone in the include"; return 1; }
  [ ! -e "$KNOT_ZONES/$bad.zone" ] || { echo "refused zone has a zone file"; return 1; }
  served "$A" 2026070102
  # fixed by the next push: served, and the drain is clean again
  zone "$bad" 2026070202 192.0.2.33 > "$BATS_TEST_TMPDIR/fixed"
  zd_push "$bad" "$BATS_TEST_TMPDIR/fixed"
  drain_ok
  served "$bad" 2026070202
}

@test "a refused new version of a served zone: drain exit 1, the old version stays served and its file is back" {
  dname_zone "$B" 2026070103 > "$BATS_TEST_TMPDIR/b"
  zd_push "$B" "$BATS_TEST_TMPDIR/b"
  drain
  [ "$status" -eq 1 ] || { echo "drain exited $status, wanted 1: $output"; return 1; }
  grep -q "$B" <<<"$output" || { echo "the refused zone is not named: $output"; return 1; }
  served "$B" 2026070101
  expect_answer "www.$B" A 192.0.2.12
  in_include "$B" || { echo "$B left the include"; return 1; }
  grep -q 2026070101 "$KNOT_ZONES/$B.zone" || { echo "the old zone file is not back"; return 1; }
  # its next good version goes through
  zone "$B" 2026070104 192.0.2.42 > "$BATS_TEST_TMPDIR/b2"
  zd_push "$B" "$BATS_TEST_TMPDIR/b2"
  drain_ok
  served "$B" 2026070104
}

@test "a batch too big for a checker per zone: knotd's own load verdict rejects the bad zones, the others are served" {
  local i bad=knot-bulk-bad.e2e.example
  for i in $(seq -w 1 55); do
    zone "kbulk$i.e2e.example" 2026070301 "192.0.2.$((100 + 10#$i))" > "$BATS_TEST_TMPDIR/z$i"
    zd_push "kbulk$i.e2e.example" "$BATS_TEST_TMPDIR/z$i"
  done
  dname_zone "$bad" 2026070301 > "$BATS_TEST_TMPDIR/bad"
  zd_push "$bad" "$BATS_TEST_TMPDIR/bad"
  # and a bad new version of a served zone in the same batch
  dname_zone "$A" 2026070103 > "$BATS_TEST_TMPDIR/a"
  zd_push "$A" "$BATS_TEST_TMPDIR/a"
  knot_log_mark
  drain
  [ "$status" -eq 1 ] || { echo "drain exited $status, wanted 1: $output"; return 1; }
  grep -q "$bad" <<<"$output" && grep -q "$A" <<<"$output" \
    || { echo "the refused zones are not named: $output"; return 1; }
  for i in 01 27 55; do served "kbulk$i.e2e.example" 2026070301; done
  expect_answer www.kbulk42.e2e.example A 192.0.2.142
  absent "$bad"
  ! knot_zones | grep -qx "$bad" || { echo "$bad left in knotd's configuration"; return 1; }
  ! in_include "$bad" || { echo "$bad in the include"; return 1; }
  served "$A" 2026070102
  grep -q 2026070102 "$KNOT_ZONES/$A.zone" || { echo "the old zone file of $A is not back"; return 1; }
  # one transaction for 56 adds (and one more taking the refused one out again)
  [ "$(knot_commands | grep -c '^conf-commit$')" -le 2 ] || { echo "commands:"; knot_commands | sort | uniq -c; return 1; }
  [ "$(grep -c '^  - domain:' "$KNOT_INCLUDE")" -eq "$(knot_zones | grep -vc '^zonedrop-e2e.example$')" ] \
    || { echo "include and knotd differ"; cat "$KNOT_INCLUDE"; knot_zones; return 1; }
  # DirectAdmin gives up on the bad one: nothing is left to retry
  run zd delete "$bad"
  [ "$status" -eq 0 ]
  drain_ok
}

@test "knotd stopped: drain exits 1 and the zones wait for a retry; knotd back: drain -f converges" {
  local n=knot-while-down.e2e.example
  stop_knot
  zone "$A" 2026070105 192.0.2.51 > "$BATS_TEST_TMPDIR/a"
  zone "$n" 2026070401 192.0.2.52 > "$BATS_TEST_TMPDIR/n"
  zd_push "$A" "$BATS_TEST_TMPDIR/a"
  zd_push "$n" "$BATS_TEST_TMPDIR/n"
  run zd delete "$B"
  [ "$status" -eq 0 ]
  drain
  [ "$status" -eq 1 ] || { echo "drain with knotd down exited $status, wanted 1: $output"; return 1; }
  grep -q "knot1" <<<"$output" || { echo "the failed backend is not named: $output"; return 1; }
  run zd zones --backend knot1 --state retry
  grep -q "$n" <<<"$output" || { echo "$n not waiting for a retry on knot1: $output"; zd show "$n"; return 1; }
  # knotd back from its text config: what zonedrop had applied is served again
  start_knot
  served "$A" 2026070102
  served "$B" 2026070104
  run timeout "$ZD_DRAIN_TIMEOUT" "$ZONEDROP_BIN/zonedrop-drain" -f -c "$ZD_CONFIG"
  [ "$status" -eq 0 ] || { echo "zonedrop-drain -f exited $status: $output"; return 1; }
  served "$A" 2026070105
  served "$n" 2026070401
  expect_answer "www.$n" A 192.0.2.52
  absent "$B"
  ! in_include "$B" || { echo "$B still in the include"; return 1; }
  in_include "$n"
}

@test "a stale open transaction (knotc conf-begin by someone else) is aborted by the next drain, which succeeds" {
  local n=knot-stale.e2e.example
  knotc -s "$KNOT_SOCK" conf-begin
  knotc -s "$KNOT_SOCK" conf-set 'zone[knot-never.e2e.example]'
  run knotc -s "$KNOT_SOCK" conf-begin
  [ "$status" -ne 0 ] || { echo "a second conf-begin worked: no open transaction"; return 1; }
  zone "$n" 2026070501 192.0.2.55 > "$BATS_TEST_TMPDIR/n"
  zd_push "$n" "$BATS_TEST_TMPDIR/n"
  drain_ok
  served "$n" 2026070501
  ! knot_zones | grep -qx knot-never.e2e.example || { echo "the stale transaction was committed"; return 1; }
}

@test "crash: kill -9 of the drain inside the conf transaction; the next drain aborts it and converges" {
  local n=knot-crash.e2e.example hang=$T/knotc-hang dpid hpid
  # knotc as usual, but after the session that opened the transaction it stops for good
  cat > "$hang" <<EOF
#!/bin/bash
in=\$(cat)
printf '%s\n' "\$in" | knotc "\$@"
if grep -qx conf-begin <<<"\$in"; then echo \$\$ > "$T/hang.pid"; exec -a "$T/hung" sleep 300; fi
EOF
  chmod +x "$hang"
  rm -f "$T/hang.pid"
  KNOT_CONTROL_USE="$hang -s $KNOT_SOCK" write_knot_config
  zone "$n" 2026070601 192.0.2.56 > "$BATS_TEST_TMPDIR/n"
  zd_push "$n" "$BATS_TEST_TMPDIR/n"
  run zd delete knot-stale.e2e.example
  [ "$status" -eq 0 ]
  "$ZONEDROP_BIN/zonedrop-drain" -c "$ZD_CONFIG" > "$T/crash-drain.log" 2>&1 3>&- &
  dpid=$!
  remember drain "$dpid"
  wait_until 60 "the drain to open a transaction" test -s "$T/hang.pid" \
    || { cat "$T/crash-drain.log"; return 1; }
  hpid=$(cat "$T/hang.pid")
  remember hang "$hpid"
  kill -9 "$dpid"
  wait "$dpid" 2>/dev/null || true
  stop_pid "$hpid"
  # knotd holds the dead drain's transaction: nobody else can begin one
  run knotc -s "$KNOT_SOCK" conf-begin
  [ "$status" -ne 0 ] || { knotc -s "$KNOT_SOCK" conf-abort; echo "no open transaction left: not a test"; return 1; }
  write_knot_config
  drain_ok
  served "$n" 2026070601
  absent knot-stale.e2e.example
  run knotc -s "$KNOT_SOCK" conf-begin
  [ "$status" -eq 0 ] || { echo "transaction still stuck: $output"; return 1; }
  knotc -s "$KNOT_SOCK" conf-abort
  [ "$(spool_count new)" -eq 0 ] && [ "$(spool_count cur)" -eq 0 ] \
    || { echo "left in spool: new=$(spool_count new) cur=$(spool_count cur)"; return 1; }
}

@test "knotd restarted from its text config serves exactly the include's zones" {
  local z
  stop_knot
  start_knot
  served "$A" 2026070105
  served knot-while-down.e2e.example 2026070401
  served knot-crash.e2e.example 2026070601
  served kbulk33.e2e.example 2026070301
  absent "$B"
  absent "$C"
  for z in $(sed -n 's/^  - domain: "\(.*\)"$/\1/p' "$KNOT_INCLUDE"); do
    [ -f "$KNOT_ZONES/$z.zone" ] || { echo "include names $z without a zone file"; return 1; }
  done
  diff <(sed -n 's/^  - domain: "\(.*\)"$/\1/p' "$KNOT_INCLUDE" | sort) \
       <(knot_zones | grep -vx zonedrop-e2e.example | sort) || { echo "include and knotd differ"; return 1; }
  drain_ok
}

@test "a knotd run from a confdb without include_file (the conformance kit's way): add, change, delete" {
  local k2=$T/knot2 z=knot-confdb.e2e.example
  # a second knotd and its own zonedrop (spool, state) beside the first
  (
    DNS_PORT=$(free_ports 1)
    ZD_SPOOL=$T/spool2 ZD_STATE=$T/state2 ZD_CONFIG=$T/zonedrop2.yml
    mkdir -p "$ZD_SPOOL/tmp" "$ZD_SPOOL/new" "$ZD_SPOOL/cur" "$ZD_SPOOL/bad" "$ZD_STATE"
    KNOT_DIR='' start_knot "$k2" confdb || exit 1
    [ -z "$KNOT_INCLUDE" ] || { echo "confdb mode has an include"; exit 1; }
    write_knot_config
    zone "$z" 2026070701 192.0.2.71 > "$BATS_TEST_TMPDIR/z"
    zd_push "$z" "$BATS_TEST_TMPDIR/z" || exit 1
    drain_ok || exit 1
    served "$z" 2026070701 || exit 1
    zone "$z" 2026070702 192.0.2.72 > "$BATS_TEST_TMPDIR/z"
    zd_push "$z" "$BATS_TEST_TMPDIR/z" || exit 1
    drain_ok || exit 1
    served "$z" 2026070702 || exit 1
    expect_answer "www.$z" A 192.0.2.72 || exit 1
    # the confdb keeps committed zones across a restart
    stop_knot "$k2" && start_knot "$k2" || exit 1
    served "$z" 2026070702 || exit 1
    run zd delete "$z"
    drain_ok || exit 1
    gone_now "$z" || exit 1
    stop_knot "$k2"
  )
}
