# Three backends at once (issue #3): a real NSD, named and knotd side by side on
# free 127.0.0.1 ports, one zonedrop.yml naming nsd1, bind1 and knot1, pushes
# through zonedrop.cgi behind lighttpd as DirectAdmin sends them. One drain
# applies every zone to all three (in parallel); one server down holds back only
# its own backend (retry with a due time, then converged, and the same after the
# retries ran out); a zone only named-checkzone refuses is applied elsewhere and
# reported for BIND; a drain killed -9 twice while applying is finished by the
# next run. Tests build on each other (one spool, three servers, in file order).
load lib/servers
load lib/bind
load lib/knot
load lib/multi

setup_file() {
  e2e_init
  start_three
  write_multi_config "[1s, 1s, 1s]"
  start_lighttpd
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

zd() { "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" "$@"; }

# drain_until_ok [TRIES]: normal drains until one exits 0; 75 (lock or state
# busy) is tolerated, anything else fails at once
drain_until_ok() {
  local i
  for i in $(seq "${1:-5}"); do
    drain
    [ "$status" -eq 0 ] && return 0
    [ "$status" -eq 75 ] || { echo "zonedrop-drain exited $status: $(tail -20 <<<"$output")"; return 1; }
  done
  echo "zonedrop-drain still exits 75 after ${1:-5} runs"
  return 1
}

# wait_due BACKEND: poll `zonedrop status` until the backend's next retry is due
wait_due() {
  wait_until 30 "the next retry on $1 to be due" retry_due "$1" \
    || { zd status; return 1; }
}

# show_state SERVER DOMAIN STATE: `zonedrop show` has DOMAIN in STATE on the
# server's backend with a due time (retry) or without (failed)
show_state() {
  local be line
  be=$(backend_of "$1")
  line=$(zd show "$2" | awk -F'\t' -v b="$be" '$1 == "backend" && $2 == b')
  [ "$(cut -f3 <<<"$line")" = "$3" ] || { echo "zonedrop show $2, $be: '$line', wanted state $3"; return 1; }
  if [ "$3" = retry ]; then
    [[ $line =~ next_retry=[0-9]{4}-[0-9]{2}-[0-9]{2}T ]] \
      || { echo "zonedrop show $2, $be: no due time: '$line'"; return 1; }
  fi
}

@test "multi: NSD, named and knotd answer their probe zones; an empty drain exits 0" {
  on_all nsd_probe
  [ "$NSD_PORT" != "$BIND_PORT" ] && [ "$BIND_PORT" != "$KNOT_PORT" ] && [ "$NSD_PORT" != "$KNOT_PORT" ]
  run zd check-config
  [ "$status" -eq 0 ] || { echo "check-config exited $status: $output"; return 1; }
  drain_ok
}

@test "corpus: every fixture zone pushed through the CGI, one drain (exit 0), every .expect holds on NSD, BIND and Knot" {
  local zf
  local -a expects=()
  for zf in "$FIXTURES"/zones/*.zone; do expects+=("${zf%.zone}.expect"); done
  push_fixtures "$FIXTURES"/zones/*.zone
  [ "${#expects[@]}" -ge 30 ] || { echo "only ${#expects[@]} corpus zones"; return 1; }
  drain_ok
  [ "$(spool_count new)" -eq 0 ] && [ "$(spool_count cur)" -eq 0 ] \
    || { echo "left in spool: new=$(spool_count new) cur=$(spool_count cur)"; return 1; }
  run expect_on nsd,bind,knot "${expects[@]}"
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
}

@test "add, change, delete: each visible on all three right after one drain" {
  local d=multi-acd.e2e.example
  da_zone "$d" 2026080101 192.0.2.101 > "$BATS_TEST_TMPDIR/z"
  push_ok "$d" "$BATS_TEST_TMPDIR/z"
  drain_ok
  on_all served_now "$d" 2026080101
  on_all expect_answer "www.$d" A 192.0.2.101
  # change: bumped serial, new address
  da_zone "$d" 2026080102 192.0.2.102 > "$BATS_TEST_TMPDIR/z"
  push_ok "$d" "$BATS_TEST_TMPDIR/z" --named-reload
  drain_ok
  on_all served_now "$d" 2026080102
  on_all expect_answer "www.$d" A 192.0.2.102
  # delete as DirectAdmin sends it
  delete_ok "$d"
  drain_ok
  on_all absent_now "$d"
  # the corpus is untouched
  on_all served alpha-bakery.co.nz 2026011501
}

@test "NSD stopped: the same drain brings the pushes to BIND and Knot (exit 1), NSD waits for a retry with a due time; NSD back: the next drain after the due time converges" {
  local n=multi-nsd-down.e2e.example c=multi-nsd-change.e2e.example
  da_zone "$c" 2026080201 192.0.2.111 > "$BATS_TEST_TMPDIR/c"
  push_ok "$c" "$BATS_TEST_TMPDIR/c"
  drain_ok
  on_all served_now "$c" 2026080201

  stop_server nsd
  da_zone "$n" 2026080201 192.0.2.112 > "$BATS_TEST_TMPDIR/n"
  da_zone "$c" 2026080202 192.0.2.113 > "$BATS_TEST_TMPDIR/c"
  push_ok "$n" "$BATS_TEST_TMPDIR/n"
  push_ok "$c" "$BATS_TEST_TMPDIR/c"
  drain
  [ "$status" -eq 1 ] || { echo "drain with NSD down exited $status, wanted 1: $output"; return 1; }
  grep -q nsd1 <<<"$output" || { echo "the failed backend is not named: $output"; return 1; }
  # the other two have it, in that same drain
  on_all --except nsd served_now "$n" 2026080201
  on_all --except nsd served_now "$c" 2026080202
  on_all --except nsd expect_answer "www.$n" A 192.0.2.112
  # nothing is lost: both zones wait on nsd1, with a due time
  run zd zones --backend nsd1 --state retry
  grep -q "^${n}[[:space:]]" <<<"$output" && grep -q "^${c}[[:space:]]" <<<"$output" \
    || { echo "not both waiting for a retry on nsd1: $output"; zd status; return 1; }
  [ "$(backend_field nsd1 retry)" -ge 2 ] || { zd status; return 1; }
  [[ $(backend_field nsd1 next_retry) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]] \
    || { echo "no due time in zonedrop status:"; zd status; return 1; }
  show_state nsd "$n" retry
  run zd zones --backend bind1 --state retry
  [ -z "$output" ] || { echo "bind1 waits for a retry although named was up: $output"; return 1; }

  start_server nsd
  wait_due nsd1
  drain
  [ "$status" -eq 0 ] || { echo "the drain after the due time exited $status: $output"; zd status; return 1; }
  on_all served_now "$n" 2026080201
  on_all served_now "$c" 2026080202
  on_all expect_answer "www.$c" A 192.0.2.113
  run zd zones --backend nsd1 --state retry
  [ -z "$output" ] || { echo "still waiting for a retry on nsd1: $output"; return 1; }
  [ "$(backend_field nsd1 retry)" -eq 0 ] && [ "$(backend_field nsd1 failed)" -eq 0 ] \
    || { zd status; return 1; }
}

@test "named stopped until its retries ran out (failed); named back: zonedrop retry --all, then a drain converges" {
  local n=multi-bind-down.e2e.example d=multi-bind-gone.e2e.example i st=
  da_zone "$d" 2026080301 192.0.2.121 > "$BATS_TEST_TMPDIR/d"
  push_ok "$d" "$BATS_TEST_TMPDIR/d"
  drain_ok

  stop_server bind
  da_zone "$n" 2026080301 192.0.2.122 > "$BATS_TEST_TMPDIR/n"
  push_ok "$n" "$BATS_TEST_TMPDIR/n"
  delete_ok "$d"
  drain
  [ "$status" -eq 1 ] || { echo "drain with named down exited $status, wanted 1: $output"; return 1; }
  grep -q bind1 <<<"$output" || { echo "the failed backend is not named: $output"; return 1; }
  on_all --except bind served_now "$n" 2026080301
  on_all --except bind absent_now "$d"
  show_state bind "$n" retry
  # schedule [1s, 1s, 1s]: every due retry fails again until none is left
  for i in $(seq 8); do
    [ "$(backend_field bind1 failed)" -ge 1 ] && [ "$(backend_field bind1 retry)" -eq 0 ] && { st=failed; break; }
    wait_due bind1
    drain
    [ "$status" -eq 1 ] || { echo "drain $i with named down exited $status, wanted 1: $output"; return 1; }
  done
  [ "$st" = failed ] || { echo "bind1 never reached failed:"; zd status; return 1; }
  show_state bind "$n" failed
  run zd zones --backend bind1 --state failed
  grep -q "^${n}[[:space:]]" <<<"$output" || { echo "$n not failed on bind1: $output"; return 1; }
  # the other backends are clean
  [ "$(backend_field nsd1 failed)" -eq 0 ] && [ "$(backend_field knot1 failed)" -eq 0 ] \
    && [ "$(backend_field nsd1 retry)" -eq 0 ] && [ "$(backend_field knot1 retry)" -eq 0 ] \
    || { zd status; return 1; }

  start_server bind
  run zd retry --all
  [ "$status" -eq 0 ] || { echo "zonedrop retry --all exited $status: $output"; return 1; }
  drain
  [ "$status" -eq 0 ] || { echo "the drain after retry --all exited $status: $output"; zd status; return 1; }
  on_all served_now "$n" 2026080301
  on_all expect_answer "www.$n" A 192.0.2.122
  on_all absent_now "$d"
  [ "$(backend_field bind1 failed)" -eq 0 ] && [ "$(backend_field bind1 retry)" -eq 0 ] \
    || { zd status; return 1; }
}

@test "a zone only named refuses (in-zone NS without address): applied on NSD and Knot, reported for BIND (exit 1, zonedrop show names the reason)" {
  local bad=multi-bind-refuses.e2e.example good=multi-beside-refused.e2e.example
  cat > "$BATS_TEST_TMPDIR/bad" <<EOF
\$TTL 3600
@	IN	SOA	ns1.$bad.	hostmaster.$bad. ( 2026080401 3600 3600 1209600 86400 )
@	IN	NS	ns1.$bad.
@	IN	A	192.0.2.131
www	IN	A	192.0.2.131
EOF
  run named-checkzone "$bad" "$BATS_TEST_TMPDIR/bad"
  [ "$status" -ne 0 ] || { echo "named-checkzone accepts it: not a test"; return 1; }
  run nsd-checkzone "$bad" "$BATS_TEST_TMPDIR/bad"
  [ "$status" -eq 0 ] || { echo "nsd-checkzone refuses it too: not a test: $output"; return 1; }
  push_ok "$bad" "$BATS_TEST_TMPDIR/bad"
  da_zone "$good" 2026080401 192.0.2.132 > "$BATS_TEST_TMPDIR/good"
  push_ok "$good" "$BATS_TEST_TMPDIR/good"
  drain
  [ "$status" -eq 1 ] || { echo "drain exited $status, wanted 1: $output"; return 1; }
  grep -q "$bad" <<<"$output" || { echo "the refused zone is not named: $output"; return 1; }
  grep -q bind1 <<<"$output" || { echo "the refusing backend is not named: $output"; return 1; }
  on_all served_now "$good" 2026080401
  # knotd loads it too: a missing glue is no mandatory check of Knot's loader
  # (kzonecheck prints "missing glue record", which zonedrop only logs)
  on_all --except bind served_now "$bad" 2026080401
  on_all --except bind expect_answer "www.$bad" A 192.0.2.131
  on bind absent_now "$bad"
  # zonedrop show names named's reason on bind1, and nsd1 has it applied
  run zd show "$bad"
  grep -E "^backend[[:space:]]bind1[[:space:]]rejected[[:space:]]" <<<"$output" | grep -qi "no address records" \
    || { echo "bind1's rejection and reason not in zonedrop show:"; echo "$output" | grep ^backend; return 1; }
  grep -qE "^backend[[:space:]]nsd1[[:space:]]ok[[:space:]].*served=yes" <<<"$output" \
    && grep -qE "^backend[[:space:]]knot1[[:space:]]ok[[:space:]].*served=yes" <<<"$output" \
    || { echo "nsd1 and knot1 not ok in zonedrop show:"; echo "$output" | grep ^backend; return 1; }
  # fixed by the next push: everywhere, clean drain
  da_zone "$bad" 2026080402 192.0.2.133 > "$BATS_TEST_TMPDIR/fixed"
  push_ok "$bad" "$BATS_TEST_TMPDIR/fixed"
  drain_ok
  on_all served_now "$bad" 2026080402
}

@test "kill -9 of the drain twice while three backends are applied (300 zones): the next drain serves every zone everywhere" {
  local pid s inodes
  run zdc push-many --prefix crash --suffix multi.e2e.example --count 300 --clients 4 --serial 2026080501
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  # 1: killed once it took items from new/ (cur/ not empty)
  "$ZONEDROP_BIN/zonedrop-drain" -c "$ZD_CONFIG" > "$T/killed-drain-1.log" 2>&1 3>&- &
  pid=$!
  remember drain "$pid"
  wait_until 60 "the drain to take items into cur/" cur_busy || true
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # 2: the next drain, killed once some backend's include or a zone file changed
  inodes=$(backend_marks)
  "$ZONEDROP_BIN/zonedrop-drain" -c "$ZD_CONFIG" > "$T/killed-drain-2.log" 2>&1 3>&- &
  pid=$!
  remember drain "$pid"
  wait_until 60 "the drain to write to a backend" marks_changed "$inodes" || true
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # a normal drain (75 tolerated) finishes it
  drain_until_ok 5
  [ "$(spool_count new)" -eq 0 ] && [ "$(spool_count cur)" -eq 0 ] \
    || { echo "left in spool: new=$(spool_count new) cur=$(spool_count cur)"; return 1; }
  for s in $MULTI_SERVERS; do
    run zdc served-many --prefix crash --suffix multi.e2e.example --count 300 --serial 2026080501 \
      --dns "127.0.0.1@$(port_of "$s")" --wait 30
    [ "$status" -eq 0 ] || { echo "$s: $output"; return 1; }
  done
  # and what was there before is still served
  on_all served alpha-bakery.co.nz 2026011501
  on_all served multi-beside-refused.e2e.example 2026080401
}
cur_busy() { [ "$(spool_count cur)" -gt 0 ]; }
# backend_marks: inode and mtime of the includes, and the zone files of the batch
backend_marks() {
  stat -c '%i %Y' "$NSD_INCLUDE" "$BIND_INCLUDE" "$KNOT_INCLUDE"
  find "$NSD_ZONES" "$BIND_ZONES" "$KNOT_ZONES" -name 'crash*' -printf '%i %T@\n' | sort
}
marks_changed() { [ "$(backend_marks)" != "$1" ]; }
