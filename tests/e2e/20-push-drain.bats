# Push -> spool -> drain -> NSD serves it, as DirectAdmin produces the requests:
# spool item format, change, delete (select0), coalescing, multi-select delete,
# a zone NSD refuses in a batch of good ones, CRLF, corpus zones, CLI views.
# Tests build on each other (one NSD, one spool, in file order).
load lib/servers

D=first-push.e2e.example

setup_file() {
  e2e_init
  start_nsd
  write_config
  start_lighttpd
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

zd() { "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" "$@"; }

@test "drain: an empty spool drains cleanly (exit 0)" {
  drain_ok
}

@test "push: DirectAdmin's bytes become exactly one item in new/ with the spool headers" {
  local item f
  da_zone "$D" 2026050101 192.0.2.51 > "$BATS_TEST_TMPDIR/z"
  run zdc push "$D" "$BATS_TEST_TMPDIR/z" --hostname da1.e2e.example --username alice
  answer_is "$output" 200 error=0
  [ "$(spool_count new)" -eq 1 ] || { echo "new/ holds $(spool_count new) items"; spool_names new; return 1; }
  [ "$(spool_count tmp)" -eq 0 ] || { echo "tmp/ not empty: $(spool_names tmp)"; return 1; }
  item=$(spool_names new)
  [[ $item =~ ^[0-9]+\.[0-9]{6}\.[0-9]+_[0-9]+\..+$ ]] || { echo "name '$item' is not <sec>.<usec>.<pid>_<n>.<host>"; return 1; }
  f=$ZD_SPOOL/new/$item
  [ "$(item_header "$f" Action)" = rawsave ]
  [ "$(item_header "$f" Domain)" = "$D" ]
  [ "$(item_header "$f" Hostname)" = da1.e2e.example ]
  [ "$(item_header "$f" Username)" = alice ]
  [ "$(item_header "$f" Source)" = directadmin ]
  [ "$(item_header "$f" Client-Ip)" = 127.0.0.1 ]
  [[ $(item_header "$f" Received) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$ ]] \
    || { echo "Received: '$(item_header "$f" Received)'"; return 1; }
  # the body is the zone as received
  diff <(sed '1,/^$/d' "$f") "$BATS_TEST_TMPDIR/z" || { echo "zone text differs from what was pushed"; return 1; }
}

@test "drain: exit 0, new/ and cur/ empty, NSD serves the SOA and the A records" {
  drain_ok
  [ "$(spool_count new)" -eq 0 ] && [ "$(spool_count cur)" -eq 0 ] \
    || { echo "left in spool: new=$(spool_count new) cur=$(spool_count cur)"; return 1; }
  served "$D" 2026050101
  expect_answer "www.$D" A 192.0.2.51
  expect_answer "$D" MX "10 mail.$D."
  run zdc exists "$D"
  answer_is "$output" 200 error=0 exists=1
}

@test "change: a push with a bumped serial is served after the drain" {
  da_zone "$D" 2026050102 192.0.2.52 > "$BATS_TEST_TMPDIR/z"
  push_ok "$D" "$BATS_TEST_TMPDIR/z" --named-reload
  drain_ok
  served "$D" 2026050102
  expect_answer "www.$D" A 192.0.2.52
}

@test "delete as DirectAdmin sends it (select0 in the body, no query) removes the zone, exists=0" {
  local item
  run zdc delete "$D" --hostname da1.e2e.example
  answer_is "$output" 200 error=0
  item=$(spool_names new)
  [ "$(item_header "$ZD_SPOOL/new/$item" Action)" = delete ] || { cat "$ZD_SPOOL/new/$item"; return 1; }
  [ "$(item_header "$ZD_SPOOL/new/$item" Domain)" = "$D" ]
  drain_ok
  absent "$D"
  run zdc exists "$D"
  answer_is "$output" 200 error=0 exists=0
}

@test "coalescing: three pushes of one zone before a drain, the last one is served" {
  local z=last-wins.e2e.example i
  for i in 1 2 3; do
    da_zone "$z" "202605020$i" "192.0.2.6$i" > "$BATS_TEST_TMPDIR/z$i"
    push_ok "$z" "$BATS_TEST_TMPDIR/z$i"
  done
  drain_ok
  served "$z" 2026050203
  expect_answer "www.$z" A 192.0.2.63
}

@test "coalescing: push then delete before a drain leaves the zone absent" {
  local z=push-then-delete.e2e.example
  da_zone "$z" 2026050301 > "$BATS_TEST_TMPDIR/z"
  push_ok "$z" "$BATS_TEST_TMPDIR/z"
  delete_ok "$z"
  drain_ok
  absent "$z"
  run zdc exists "$z"
  answer_is "$output" 200 error=0 exists=0
}

@test "coalescing: delete then push before a drain leaves the new zone served" {
  local z=delete-then-push.e2e.example
  da_zone "$z" 2026050401 192.0.2.71 > "$BATS_TEST_TMPDIR/a"
  push_ok "$z" "$BATS_TEST_TMPDIR/a"
  drain_ok
  served "$z" 2026050401
  da_zone "$z" 2026050402 192.0.2.72 > "$BATS_TEST_TMPDIR/b"
  delete_ok "$z"
  push_ok "$z" "$BATS_TEST_TMPDIR/b"
  drain_ok
  served "$z" 2026050402
  expect_answer "www.$z" A 192.0.2.72
  run zdc exists "$z"
  answer_is "$output" 200 error=0 exists=1
}

@test "delete naming two zones (select0, select1) spools two deletes and removes both" {
  local a=multi-a.e2e.example b=multi-b.e2e.example n
  da_zone "$a" 2026050501 > "$BATS_TEST_TMPDIR/a"
  da_zone "$b" 2026050501 > "$BATS_TEST_TMPDIR/b"
  push_ok "$a" "$BATS_TEST_TMPDIR/a"
  push_ok "$b" "$BATS_TEST_TMPDIR/b"
  drain_ok
  served "$a" 2026050501
  served "$b" 2026050501
  delete_ok "$a" "$b"
  n=$(grep -l '^Action: delete' "$ZD_SPOOL"/new/* 2>/dev/null | wc -l)
  [ "$n" -eq 2 ] || { echo "$n delete items in new/, wanted 2"; return 1; }
  drain_ok
  absent "$a"
  absent "$b"
}

@test "a zone NSD refuses (zonedrop's check accepts it): drain exit 1, named, the rest served" {
  local bad=nsd-refuses.e2e.example g1=batch-good-1.e2e.example g2=batch-good-2.e2e.example
  local cand out used=
  da_zone "$g1" 2026050601 192.0.2.81 > "$BATS_TEST_TMPDIR/g1"
  da_zone "$g2" 2026050601 192.0.2.82 > "$BATS_TEST_TMPDIR/g2"
  push_ok "$g1" "$BATS_TEST_TMPDIR/g1"
  # zones nsd-checkzone refuses although they parse: a DNAME with data below it
  # (RFC 6672 occlusion), then a TLSA with an odd number of hex digits
  for cand in dname tlsa; do
    da_zone "$bad" 2026050601 > "$BATS_TEST_TMPDIR/bad"
    case $cand in
      dname) printf 'd\t3600\tIN\tDNAME\tother.example.\nx.d\t3600\tIN\tA\t192.0.2.9\n' ;;
      tlsa) printf '_443._tcp.www\t3600\tIN\tTLSA\t3 1 1 abc\n' ;;
    esac >> "$BATS_TEST_TMPDIR/bad"
    run nsd-checkzone "$bad" "$BATS_TEST_TMPDIR/bad"
    [ "$status" -ne 0 ] || { echo "nsd-checkzone accepts the $cand zone: not a test"; return 1; }
    out=$(zdc push "$bad" "$BATS_TEST_TMPDIR/bad")
    case $out in "200 error=0"*) used=$cand; break ;; esac
  done
  [ -n "$used" ] || skip "zonedrop's own check refuses every candidate NSD refuses ($out)"
  push_ok "$g2" "$BATS_TEST_TMPDIR/g2"
  drain
  [ "$status" -eq 1 ] || { echo "drain exited $status, wanted 1: $output"; return 1; }
  grep -q "$bad" <<<"$output" || { echo "the refused zone is not named: $output"; return 1; }
  served "$g1" 2026050601
  served "$g2" 2026050601
  expect_answer "www.$g2" A 192.0.2.82
  absent "$bad"
  # NSD still serves everything it served before
  served last-wins.e2e.example 2026050203
  # fixed by the next push: served, and the drain is clean again
  da_zone "$bad" 2026050602 192.0.2.83 > "$BATS_TEST_TMPDIR/fixed"
  push_ok "$bad" "$BATS_TEST_TMPDIR/fixed"
  drain_ok
  served "$bad" 2026050602
}

@test "CRLF zone (corpus islandtours.co.nz): accepted, stored with LF, served" {
  local item
  grep -q $'\r' "$FIXTURES/zones/islandtours.co.nz.zone"
  push_ok islandtours.co.nz "$FIXTURES/zones/islandtours.co.nz.zone"
  item=$(spool_names new | tail -1)
  if grep -q $'\r' "$ZD_SPOOL/new/$item"; then echo "spool item $item keeps CR bytes"; return 1; fi
  drain_ok
  expect_files "$FIXTURES/zones/islandtours.co.nz.expect"
}

@test "corpus zones in DirectAdmin's format (IDN, parent and child by two users) are served" {
  push_ok alpha-bakery.co.nz "$FIXTURES/zones/alpha-bakery.co.nz.zone"
  push_ok xn--bcher-kva.ch "$FIXTURES/zones/xn--bcher-kva.ch.zone"
  push_ok oakridge-vets.co.nz "$FIXTURES/zones/oakridge-vets.co.nz.zone"
  push_ok shop.oakridge-vets.co.nz "$FIXTURES/zones/shop.oakridge-vets.co.nz.zone" --username oakridgeshop
  drain_ok
  expect_files "$FIXTURES"/zones/{alpha-bakery.co.nz,xn--bcher-kva.ch,oakridge-vets.co.nz,shop.oakridge-vets.co.nz}.expect
}

@test "rawsave with a form or text/plain Content-Type: the body is still the zone" {
  da_zone ct-form.e2e.example 2026050701 192.0.2.91 > "$BATS_TEST_TMPDIR/a"
  da_zone ct-text.e2e.example 2026050701 192.0.2.92 > "$BATS_TEST_TMPDIR/b"
  push_ok ct-form.e2e.example "$BATS_TEST_TMPDIR/a" --content-type application/x-www-form-urlencoded
  push_ok ct-text.e2e.example "$BATS_TEST_TMPDIR/b" --content-type text/plain
  drain_ok
  expect_answer www.ct-form.e2e.example A 192.0.2.91
  expect_answer www.ct-text.e2e.example A 192.0.2.92
}

@test "rawsave as older DirectAdmin sends it (no username) and pushed with curl is served" {
  da_zone older-da.e2e.example 2026050801 192.0.2.93 > "$BATS_TEST_TMPDIR/z"
  push_ok older-da.e2e.example "$BATS_TEST_TMPDIR/z" --username ''
  da_zone curl-push.e2e.example 2026050801 192.0.2.94 > "$BATS_TEST_TMPDIR/c"
  run push_curl curl-push.e2e.example "$BATS_TEST_TMPDIR/c"
  [[ $output == *"error=0"*" 200" ]] || { echo "curl push: $output"; return 1; }
  drain_ok
  served older-da.e2e.example 2026050801
  served curl-push.e2e.example 2026050801
}

@test "zonedrop zones: one line per held zone with its serial" {
  run zd zones
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  grep -E "(^|[[:space:]])last-wins\.e2e\.example\.?([[:space:]]|$)" <<<"$output" | grep -q 2026050203 \
    || { echo "no line with last-wins.e2e.example and 2026050203 in:"; echo "$output"; return 1; }
  grep -q "shop.oakridge-vets.co.nz" <<<"$output" || { echo "$output"; return 1; }
  if grep -qE "(^|[[:space:]])push-then-delete\.e2e\.example\.?([[:space:]]|$)" <<<"$output" \
     && ! grep -E "push-then-delete" <<<"$output" | grep -qiE "absent|deleted"; then
    echo "a zone never held is listed as held:"; echo "$output"; return 1
  fi
}

@test "zonedrop show: the zone's text and owner" {
  run zd show last-wins.e2e.example
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  grep -q 2026050203 <<<"$output" || { echo "$output"; return 1; }
  grep -q "192.0.2.63" <<<"$output" || { echo "$output"; return 1; }
  run zd show never-pushed.e2e.example
  [ "$status" -ne 0 ] || { echo "show of an unknown zone exited 0: $output"; return 1; }
}

@test "zonedrop status: spool depths and the nsd1 backend" {
  run zd status
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  grep -q nsd1 <<<"$output" || { echo "nsd1 not named in:"; echo "$output"; return 1; }
  grep -qi "new" <<<"$output" || { echo "no spool depth in:"; echo "$output"; return 1; }
}
