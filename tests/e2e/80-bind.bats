# BIND 9 backend (type: bind) against a real named: zones added, changed and
# deleted through zonedrop push + zonedrop-drain, a zone named-checkzone refuses
# (zonedrop's own check accepts it), named down and back, named restarted.
# The include is the one list of zonedrop's zones; named's control log shows
# which rndc commands each drain used (reconfig per batch, reload ZONE per
# change, never a full reload for one change, never addzone).
# Tests build on each other (one named, one spool, in file order).
load lib/servers
load lib/bind

A=bind-a.e2e.example
B=bind-b.e2e.example
C=bind-c.e2e.example

setup_file() {
  e2e_init
  start_bind
  write_bind_config
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

zd() { "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" "$@"; }

# small_zone DOMAIN SERIAL [IP] > FILE: a zone as DirectAdmin writes it (SOA,
# out-of-zone NS, A, www, mail, MX, SPF), made without a python start
small_zone() {
  printf '$TTL 3600\n@\tIN\tSOA\tns1.e2e-dns.example.\thostmaster.%s. ( %s 3600 3600 1209600 86400 )\n' "$1" "$2"
  printf '%s.\t3600\tIN\tNS\tns1.e2e-dns.example.\n%s.\t3600\tIN\tNS\tns2.e2e-dns.example.\n' "$1" "$1"
  printf '%s.\t3600\tIN\tA\t%s\nmail\t3600\tIN\tA\t%s\nwww\t3600\tIN\tA\t%s\n' \
    "$1" "${3:-192.0.2.10}" "${3:-192.0.2.10}" "${3:-192.0.2.10}"
  printf '%s.\t3600\tIN\tMX\t10 mail\n%s.\t3600\tIN\tTXT\t"v=spf1 a mx ~all"\n' "$1" "$1"
}
zone() { small_zone "$@"; }

# zd_push DOMAIN FILE: spool it with the CLI (the same checks as the CGI)
zd_push() {
  run zd push "$1" "$2"
  [ "$status" -eq 0 ] || { echo "zonedrop push $1 exited $status: $output"; return 1; }
}

@test "bind: named answers its probe zone; the include starts empty" {
  nsd_probe
  [ ! -s "$BIND_INCLUDE" ]
  drain_ok
}

@test "add: three zones pushed, one drain, one rndc reconfig, all served" {
  local d
  zone "$A" 2026060101 192.0.2.11 > "$BATS_TEST_TMPDIR/a"
  zone "$B" 2026060101 192.0.2.12 > "$BATS_TEST_TMPDIR/b"
  zone "$C" 2026060101 192.0.2.13 > "$BATS_TEST_TMPDIR/c"
  zd_push "$A" "$BATS_TEST_TMPDIR/a"
  zd_push "$B" "$BATS_TEST_TMPDIR/b"
  zd_push "$C" "$BATS_TEST_TMPDIR/c"
  bind_log_mark
  drain_ok
  for d in "$A" "$B" "$C"; do
    served "$d" 2026060101
    in_include "$d" || { echo "$d not in $BIND_INCLUDE"; cat "$BIND_INCLUDE"; return 1; }
    [ -f "$BIND_ZONES/$d.zone" ] || { echo "no $BIND_ZONES/$d.zone"; ls -la "$BIND_ZONES"; return 1; }
  done
  expect_answer "www.$B" A 192.0.2.12
  # one reconfig for the batch; never addzone (named's NZD stays out of it)
  [ "$(bind_commands | grep -c '^reconfig$')" -eq 1 ] || { echo "commands:"; bind_commands; return 1; }
  ! bind_commands | grep -q '^addzone' || { echo "addzone used:"; bind_commands; return 1; }
  # every stanza is exactly what zonedrop writes, nothing else
  if grep -v '^//' "$BIND_INCLUDE" | grep -vqE '^zone "[a-z0-9.-]+" \{ type primary; file "[^"]+\.zone"; \};$'; then
    echo "unexpected include line:"; cat "$BIND_INCLUDE"; return 1
  fi
}

@test "change: a bumped serial is served after the drain, by rndc reload ZONE, not a full reload" {
  zone "$A" 2026060102 192.0.2.21 > "$BATS_TEST_TMPDIR/a"
  zd_push "$A" "$BATS_TEST_TMPDIR/a"
  bind_log_mark
  drain_ok
  served "$A" 2026060102
  expect_answer "www.$A" A 192.0.2.21
  bind_commands | grep -qx "reload $A" || { echo "no 'reload $A':"; bind_commands; return 1; }
  ! bind_commands | grep -qx 'reload' || { echo "a full rndc reload for one zone:"; bind_commands; return 1; }
  ! bind_commands | grep -qx 'reconfig' || { echo "a reconfig for a changed zone:"; bind_commands; return 1; }
  served "$B" 2026060101
}

@test "delete: the zone is gone right after that drain, while no other zone changes" {
  run zd delete "$C"
  [ "$status" -eq 0 ] || { echo "zonedrop delete exited $status: $output"; return 1; }
  drain_ok
  # no polling grace: gone when the drain returns (the drain verified it)
  [ -z "$(dig +short +norec +time=2 +tries=1 -p "$DNS_PORT" @127.0.0.1 "$C" SOA)" ] \
    || { echo "$C still served right after the drain"; return 1; }
  absent "$C"
  ! in_include "$C" || { echo "$C still in the include"; return 1; }
  [ ! -e "$BIND_ZONES/$C.zone" ] || { echo "$BIND_ZONES/$C.zone left behind"; return 1; }
  served "$A" 2026060102
  served "$B" 2026060101
}

@test "a zone named-checkzone refuses (in-zone NS without address), zonedrop's check accepts: drain exit 1, named, the rest served" {
  local bad=bind-refused.e2e.example good=bind-good.e2e.example
  # ns1.<zone> is in the zone but has no A/AAAA: named refuses to load it
  cat > "$BATS_TEST_TMPDIR/bad" <<EOF
\$TTL 3600
@	IN	SOA	ns1.$bad.	hostmaster.$bad. ( 2026060201 3600 3600 1209600 86400 )
@	IN	NS	ns1.$bad.
@	IN	A	192.0.2.31
www	IN	A	192.0.2.31
EOF
  run named-checkzone "$bad" "$BATS_TEST_TMPDIR/bad"
  [ "$status" -ne 0 ] || { echo "named-checkzone accepts it: not a test"; return 1; }
  zd_push "$bad" "$BATS_TEST_TMPDIR/bad"
  zone "$good" 2026060201 192.0.2.32 > "$BATS_TEST_TMPDIR/good"
  zd_push "$good" "$BATS_TEST_TMPDIR/good"
  drain
  [ "$status" -eq 1 ] || { echo "drain exited $status, wanted 1: $output"; return 1; }
  grep -q "$bad" <<<"$output" || { echo "the refused zone is not named: $output"; return 1; }
  grep -qi "no address records" <<<"$output" || { echo "named's reason is not shown: $output"; return 1; }
  served "$good" 2026060201
  expect_answer "www.$good" A 192.0.2.32
  absent "$bad"
  ! in_include "$bad" || { echo "refused zone in the include"; return 1; }
  served "$A" 2026060102
  # fixed by the next push: served, and the drain is clean again
  zone "$bad" 2026060202 192.0.2.33 > "$BATS_TEST_TMPDIR/fixed"
  zd_push "$bad" "$BATS_TEST_TMPDIR/fixed"
  drain_ok
  served "$bad" 2026060202
}

@test "a refused new version of a served zone: drain exit 1, the old version stays served" {
  cat > "$BATS_TEST_TMPDIR/b" <<EOF
\$TTL 3600
@	IN	SOA	ns1.$B.	hostmaster.$B. ( 2026060103 3600 3600 1209600 86400 )
@	IN	NS	ns1.$B.
www	IN	A	192.0.2.41
EOF
  zd_push "$B" "$BATS_TEST_TMPDIR/b"
  drain
  [ "$status" -eq 1 ] || { echo "drain exited $status, wanted 1: $output"; return 1; }
  grep -q "$B" <<<"$output" || { echo "the refused zone is not named: $output"; return 1; }
  served "$B" 2026060101
  expect_answer "www.$B" A 192.0.2.12
  in_include "$B" || { echo "$B left the include"; return 1; }
  # its next good version goes through
  zone "$B" 2026060104 192.0.2.42 > "$BATS_TEST_TMPDIR/b2"
  zd_push "$B" "$BATS_TEST_TMPDIR/b2"
  drain_ok
  served "$B" 2026060104
}

@test "named stopped: drain exits 1 and the zones wait for a retry; named back: the retry converges" {
  local n=bind-while-down.e2e.example
  stop_bind
  zone "$A" 2026060103 192.0.2.51 > "$BATS_TEST_TMPDIR/a"
  zone "$n" 2026060301 192.0.2.52 > "$BATS_TEST_TMPDIR/n"
  zd_push "$A" "$BATS_TEST_TMPDIR/a"
  zd_push "$n" "$BATS_TEST_TMPDIR/n"
  run zd delete "$B"
  [ "$status" -eq 0 ]
  drain
  [ "$status" -eq 1 ] || { echo "drain with named down exited $status, wanted 1: $output"; return 1; }
  grep -q "bind1" <<<"$output" || { echo "the failed backend is not named: $output"; return 1; }
  # nothing is lost: the zones are recorded as waiting on bind1
  run zd zones --backend bind1 --state retry --deleted
  grep -q "$n" <<<"$output" || { echo "$n not waiting for a retry on bind1: $output"; zd show "$n"; return 1; }
  # the delete too: named was not seen without the zone, so it is not done
  grep -q "$B" <<<"$output" || { echo "the delete of $B is not waiting for a retry: $output"; return 1; }
  start_bind
  run zd retry --all
  [ "$status" -eq 0 ] || { echo "zonedrop retry exited $status: $output"; return 1; }
  drain_ok
  served "$A" 2026060103
  served "$n" 2026060301
  expect_answer "www.$n" A 192.0.2.52
  absent "$B"
  ! in_include "$B"
  run zd zones --backend bind1 --state retry --deleted
  [ -z "$output" ] || { echo "still waiting for a retry: $output"; return 1; }
}

@test "named restarted from its config serves exactly the include's zones (one list, no NZD duplicates)" {
  local z
  stop_bind
  start_bind
  served "$A" 2026060103
  served bind-while-down.e2e.example 2026060301
  served bind-good.e2e.example 2026060201
  absent "$B"
  absent "$C"
  # named's own database of added zones is empty: the include is the only list
  ! grep -E "NZD database .* contains [1-9]" "$BIND_LOG" || { echo "named's NZD holds zones"; return 1; }
  for z in $(sed -n 's/^zone "\([^"]*\)".*/\1/p' "$BIND_INCLUDE"); do
    [ -f "$BIND_ZONES/$z.zone" ] || { echo "include names $z without a zone file"; return 1; }
  done
  drain_ok
}

@test "crash after the include was written, before named was told: the next drain converges (no 'reload ZONE' for a zone named lacks)" {
  local x=bind-crashed.e2e.example
  small_zone "$x" 2026060501 192.0.2.61 > "$BATS_TEST_TMPDIR/x"
  zd_push "$x" "$BATS_TEST_TMPDIR/x"
  # what a drain killed between the include rewrite and rndc reconfig leaves:
  # the zone file and its stanza, named never told, the zone not recorded
  cp "$BATS_TEST_TMPDIR/x" "$BIND_ZONES/$x.zone"
  echo "zone \"$x\" { type primary; file \"$BIND_ZONES/$x.zone\"; };" >> "$BIND_INCLUDE"
  absent "$x"
  bind_log_mark
  drain_ok
  served "$x" 2026060501
  expect_answer "www.$x" A 192.0.2.61
  bind_commands | grep -qx 'reconfig' || { echo "no reconfig:"; bind_commands; return 1; }
  [ "$(grep -c "^zone \"$x\" " "$BIND_INCLUDE")" -eq 1 ] || { echo "stanza not exactly once:"; cat "$BIND_INCLUDE"; return 1; }
}

@test "kill -9 of the drain as soon as it rewrote the include: the next drain converges" {
  local i before pid
  for i in $(seq -w 1 20); do
    small_zone "kill$i.e2e.example" 2026060701 "192.0.2.$((150 + 10#$i))" > "$BATS_TEST_TMPDIR/k$i"
    zd_push "kill$i.e2e.example" "$BATS_TEST_TMPDIR/k$i"
  done
  zd delete bind-crashed.e2e.example
  before=$(stat -c %i "$BIND_INCLUDE")
  "$ZONEDROP_BIN/zonedrop-drain" -c "$ZD_CONFIG" > "$T/killed-drain.log" 2>&1 3>&- &
  pid=$!
  # the include is replaced by rename: a new inode
  wait_until 60 "the include to be rewritten" include_replaced "$before" || true
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" || true
  drain_ok
  for i in 01 10 20; do served "kill$i.e2e.example" 2026060701; done
  expect_answer www.kill15.e2e.example A 192.0.2.165
  absent bind-crashed.e2e.example
  [ "$(grep -c '^zone "kill' "$BIND_INCLUDE")" -eq 20 ] || { cat "$BIND_INCLUDE"; return 1; }
  ! ls -a "$BIND_ZONES" | grep -q '\.new$' || { echo "candidate files left:"; ls -a "$BIND_ZONES"; return 1; }
}
include_replaced() { [ "$(stat -c %i "$BIND_INCLUDE")" != "$1" ]; }

@test "a zone named already has from its own named.conf: drain exit 1, that zone left out, the others applied" {
  local own=zonedrop-e2e.example other=bind-beside-conflict.e2e.example
  small_zone "$own" 2026060601 192.0.2.71 > "$BATS_TEST_TMPDIR/own"
  small_zone "$other" 2026060601 192.0.2.72 > "$BATS_TEST_TMPDIR/other"
  zd_push "$own" "$BATS_TEST_TMPDIR/own"
  zd_push "$other" "$BATS_TEST_TMPDIR/other"
  drain
  [ "$status" -eq 1 ] || { echo "drain exited $status, wanted 1: $output"; return 1; }
  grep -q "\[$own\.\].*already has" <<<"$output" || { echo "the conflict is not named: $output"; return 1; }
  served "$other" 2026060601
  ! in_include "$own" || { echo "$own written into the include"; return 1; }
  # named still serves its own zone, and a later reconfig still works
  nsd_probe
  # shellcheck disable=SC2086
  $BIND_CONTROL reconfig
  # deleting zonedrop's copy never unloads named's own zone
  run zd delete "$own"
  [ "$status" -eq 0 ]
  drain_ok
  nsd_probe || { echo "named's own zone is gone"; return 1; }
}

@test "many zones in one drain: one reconfig adds them; many changes: one rndc reload, not one per zone" {
  local i d spec
  for i in $(seq -w 1 30); do
    small_zone "bulk$i.e2e.example" 2026060401 "192.0.2.$((100 + 10#$i))" > "$BATS_TEST_TMPDIR/z$i"
    zd_push "bulk$i.e2e.example" "$BATS_TEST_TMPDIR/z$i"
  done
  bind_log_mark
  drain_ok
  [ "$(bind_commands | grep -c '^reconfig$')" -eq 1 ] || { echo "commands:"; bind_commands; return 1; }
  for i in 01 15 30; do served "bulk$i.e2e.example" 2026060401; done
  for i in $(seq -w 1 30); do
    small_zone "bulk$i.e2e.example" 2026060402 "192.0.2.$((100 + 10#$i))" > "$BATS_TEST_TMPDIR/z$i"
    zd_push "bulk$i.e2e.example" "$BATS_TEST_TMPDIR/z$i"
  done
  bind_log_mark
  drain_ok
  [ "$(bind_commands | grep -c '^reload$')" -eq 1 ] || { echo "commands:"; bind_commands; return 1; }
  [ "$(bind_commands | grep -c '^reload ')" -eq 0 ] || { echo "per-zone reloads:"; bind_commands; return 1; }
  for i in 01 15 30; do served "bulk$i.e2e.example" 2026060402; done
  expect_answer www.bulk15.e2e.example A 192.0.2.115
  served "$A" 2026060103
}

@test "a deleted zone stops being served in a drain where many other zones change" {
  local i
  for i in $(seq -w 1 12); do
    small_zone "bulk$i.e2e.example" 2026060403 > "$BATS_TEST_TMPDIR/z$i"
    zd_push "bulk$i.e2e.example" "$BATS_TEST_TMPDIR/z$i"
  done
  run zd delete bulk30.e2e.example bind-good.e2e.example
  [ "$status" -eq 0 ]
  drain_ok
  absent bulk30.e2e.example
  absent bind-good.e2e.example
  served bulk12.e2e.example 2026060403
  served bulk29.e2e.example 2026060402
}
