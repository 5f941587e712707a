# Healing against real NSD, BIND and Knot: zones removed, made stale or put back
# behind zonedrop's back are reported by `zonedrop verify` (exactly those,
# exit 1); zonedrop-reconcile marks them, the drain applies them again, and
# verify exits 0.
load lib/servers
load lib/bind
load lib/knot
load lib/multi
load lib/reconcile

H=(h1 h2 h3 h4 h5 h6)
Z=heal-e2e.example
GONE=gone.$Z

setup_file() {
  e2e_init
  start_three
  write_multi_config
  local h
  for h in "${H[@]}"; do hold da1.e2e.example "$h.$Z" || return 1; done
  hold da1.e2e.example "$GONE" || return 1
  drain_ok || return 1
  # what the servers had before GONE was deleted: an "old include" for later
  mkdir -p "$T/snap"
  cp "$NSD_INCLUDE" "$T/snap/nsd.include"
  cp "$BIND_INCLUDE" "$T/snap/bind.include"
  cp "$NSD_ZONES/$GONE.zone" "$T/snap/$GONE.zone"
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

# an older version of zone $1 (serial 2023010101) in file $2
old_zone() { da_zone "$1" 2023010101 > "$2"; }

@test "verify: everything in place, exit 0 and no output" {
  local out
  verify_run
  [ "$vstatus" -eq 0 ] || { echo "exit $vstatus: $out"; cat "$T/verify.stderr"; return 1; }
  [ -z "$out" ] || { echo "unexpected: $out"; return 1; }
  grep -q 'verify done: backends=3 skipped=0 zones=21 mismatches=0' "$T/verify.stderr" \
    || { cat "$T/verify.stderr"; return 1; }
}

@test "damage behind zonedrop's back: verify names exactly the damaged zones, exit 1" {
  # NSD restarted with an old include: the deleted zone is back (unwanted)
  stop_server nsd
  cp "$T/snap/nsd.include" "$NSD_INCLUDE"
  cp "$T/snap/$GONE.zone" "$NSD_ZONES/$GONE.zone"
  start_server nsd
  on nsd served "$GONE" 2024010101
  # NSD: h1 file and server copy gone (missing); h2 an old version (stale)
  rm -f "$NSD_ZONES/h1.$Z.zone"
  # (the stanza: "zone:", its name, its pattern)
  awk -v z="  name: \"h1.$Z\"" '$0 == "zone:" { held = $0; next }
    held != "" { if ($0 == z) { skip = 1; held = ""; next } print held; held = "" }
    skip && /^  include-pattern:/ { skip = 0; next } { print }' "$T/snap/nsd.include" > "$NSD_INCLUDE"
  $NSD_CONTROL reconfig >/dev/null
  old_zone "h2.$Z" "$NSD_ZONES/h2.$Z.zone"
  $NSD_CONTROL reload "h2.$Z" >/dev/null
  # BIND: h3 out of the include and the server (missing), h4 old (stale), the
  # deleted zone back from an old include (unwanted)
  old_zone "h4.$Z" "$BIND_ZONES/h4.$Z.zone"
  cp "$T/snap/$GONE.zone" "$BIND_ZONES/$GONE.zone"
  grep -vF "\"h3.$Z\"" "$T/snap/bind.include" > "$BIND_INCLUDE"
  rm -f "$BIND_ZONES/h3.$Z.zone"
  $BIND_CONTROL reconfig >/dev/null
  $BIND_CONTROL reload "h4.$Z" >/dev/null
  # Knot: h5 unset and its file gone (missing), h6 old (stale), the deleted zone set again
  old_zone "h6.$Z" "$KNOT_ZONES/h6.$Z.zone"
  cp "$T/snap/$GONE.zone" "$KNOT_ZONES/$GONE.zone"
  rm -f "$KNOT_ZONES/h5.$Z.zone"
  knotc -s "$KNOT_SOCK" conf-begin >/dev/null
  knotc -s "$KNOT_SOCK" conf-unset "zone[h5.$Z]" >/dev/null
  knotc -s "$KNOT_SOCK" conf-set "zone[$GONE]" >/dev/null
  knotc -s "$KNOT_SOCK" conf-set "zone[$GONE].file" "$KNOT_ZONES/$GONE.zone" >/dev/null
  knotc -s "$KNOT_SOCK" conf-commit >/dev/null
  knotc -s "$KNOT_SOCK" zone-reload "h6.$Z" >/dev/null
  on nsd served "h2.$Z" 2023010101
  on bind served "h4.$Z" 2023010101
  on bind served "$GONE" 2024010101
  on knot served "h6.$Z" 2023010101
  on knot served "$GONE" 2024010101
  on nsd absent "h1.$Z"
  on bind absent "h3.$Z"
  on knot absent "h5.$Z"

  local out want
  verify_run
  [ "$vstatus" -eq 1 ] || { echo "exit $vstatus: $out"; cat "$T/verify.stderr"; return 1; }
  want=$(printf '%s\n' \
    "bind1	$GONE	unwanted	-	2024010101" \
    "bind1	h3.$Z	missing	2024010101	-" \
    "bind1	h4.$Z	stale	2024010101	2023010101" \
    "knot1	$GONE	unwanted	-	2024010101" \
    "knot1	h5.$Z	missing	2024010101	-" \
    "knot1	h6.$Z	stale	2024010101	2023010101" \
    "nsd1	$GONE	unwanted	-	2024010101" \
    "nsd1	h1.$Z	missing	2024010101	-" \
    "nsd1	h2.$Z	stale	2024010101	2023010101" | sort)
  [ "$out" = "$want" ] || { echo "verify printed:"; echo "$out"; echo "wanted:"; echo "$want"; return 1; }
  # one backend, one domain
  verify_run --backend knot1 "h6.$Z"
  [ "$vstatus" -eq 1 ] && [ "$out" = "knot1	h6.$Z	stale	2024010101	2023010101" ] || { echo "$out"; return 1; }
  verify_run --backend knot1 "h1.$Z"
  [ "$vstatus" -eq 0 ] && [ -z "$out" ] || { echo "exit $vstatus: $out"; return 1; }
}

@test "reconcile -n reports the damage and marks nothing" {
  reconcile -H -n
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  [ "$(grep -c '^heal' <<<"$output")" -eq 9 ] || { echo "$output"; return 1; }
  grep -q 'healed=0' <<<"$output" || { echo "$output"; return 1; }
  # nothing to do for the drain
  run zd zones --backend nsd1 --state pending
  [ -z "$output" ] || { echo "pending after a dry run: $output"; return 1; }
}

@test "reconcile marks the damaged zones, the drain restores them, verify exits 0" {
  reconcile -H
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  grep -q 'backends=3 backends_skipped=0 zones=21 mismatches=9 healed=9' <<<"$output" \
    || { echo "no summary: $output"; return 1; }
  drain_ok
  on nsd served "h1.$Z" 2024010101
  on nsd served "h2.$Z" 2024010101
  on bind served "h3.$Z" 2024010101
  on bind served "h4.$Z" 2024010101
  on knot served "h5.$Z" 2024010101
  on knot served "h6.$Z" 2024010101
  on_all absent "$GONE"
  local out
  verify_run
  [ "$vstatus" -eq 0 ] && [ -z "$out" ] || { echo "exit $vstatus: $out"; cat "$T/verify.stderr"; return 1; }
  # and the include a restart reads no longer names the deleted zone
  ! grep -qF "$GONE" "$NSD_INCLUDE"
  ! grep -qF "$GONE" "$BIND_INCLUDE"
}

@test "verify --deep: a record changed under the same serial is reported record by record" {
  # same serial, another A record: the SOA check cannot see it
  da_zone "h2.$Z" 2024010101 192.0.2.99 > "$NSD_ZONES/h2.$Z.zone"
  $NSD_CONTROL reload "h2.$Z" >/dev/null
  on nsd expect_answer "h2.$Z" A 192.0.2.99
  local out
  verify_run --backend nsd1
  [ "$vstatus" -eq 0 ] && [ -z "$out" ] || { echo "the SOA check saw something: $out"; return 1; }
  verify_run --backend nsd1 --deep
  [ "$vstatus" -eq 1 ] || { echo "exit $vstatus: $out"; cat "$T/verify.stderr"; return 1; }
  grep -qP "^nsd1\th2\.$Z\tdiffers\t2024010101\t2024010101\t-h2\.$Z\.\s+\d+\s+IN\s+A\s+192\.0\.2\.10$" <<<"$out" \
    || { echo "desired record not reported: $out"; return 1; }
  grep -qP "^nsd1\th2\.$Z\tdiffers\t2024010101\t2024010101\t\+h2\.$Z\.\s+\d+\s+IN\s+A\s+192\.0\.2\.99$" <<<"$out" \
    || { echo "served record not reported: $out"; return 1; }
  # BIND and Knot hold the desired records: --deep finds nothing there
  verify_run --backend bind1 --deep
  [ "$vstatus" -eq 0 ] && [ -z "$out" ] || { echo "bind1: exit $vstatus: $out"; cat "$T/verify.stderr"; return 1; }
  verify_run --backend knot1 --deep
  [ "$vstatus" -eq 0 ] && [ -z "$out" ] || { echo "knot1: exit $vstatus: $out"; cat "$T/verify.stderr"; return 1; }
}

@test "reconcile --deep marks the zone edited under the same serial, the drain restores it" {
  # (h2 on NSD still serves 192.0.2.99 from the test above)
  on nsd expect_answer "h2.$Z" A 192.0.2.99
  reconcile -H
  [ "$status" -eq 0 ] && grep -q 'mismatches=0 healed=0' <<<"$output" \
    || { echo "the serial check saw something: exit $status: $output"; return 1; }
  reconcile -H --deep
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  grep -q 'backends=3 backends_skipped=0 zones=21 mismatches=1 healed=1' <<<"$output" \
    || { echo "$output"; return 1; }
  grep -qP "^heal\tnsd1\th2\.$Z\tdiffers\t2024010101\t2024010101\t\+h2\.$Z\.\s+\d+\s+IN\s+A\s+192\.0\.2\.99$" <<<"$output" \
    || { echo "$output"; return 1; }
  drain_ok
  on nsd expect_answer "h2.$Z" A 192.0.2.10
  local out
  verify_run --deep
  [ "$vstatus" -eq 0 ] && [ -z "$out" ] || { echo "exit $vstatus: $out"; cat "$T/verify.stderr"; return 1; }
  reconcile -H -D
  [ "$status" -eq 0 ] && grep -q 'mismatches=0 healed=0' <<<"$output" || { echo "exit $status: $output"; return 1; }
}

@test "a server that does not answer is skipped: verify and reconcile exit 1, nothing marked" {
  stop_server knot
  local out
  verify_run --backend knot1 --timeout 2s
  [ "$vstatus" -eq 1 ] || { echo "exit $vstatus: $out"; return 1; }
  grep -q 'backend=knot1 not checked' "$T/verify.stderr" || { cat "$T/verify.stderr"; return 1; }
  reconcile -H -t 2
  [ "$status" -eq 1 ] || { echo "exit $status: $output"; return 1; }
  run zd zones --backend knot1 --state pending
  [ -z "$output" ] || { echo "marked while down: $output"; return 1; }
  start_server knot
}

@test "healing takes the spool lock: busy -> exit 75" {
  exec 9>"$ZD_SPOOL/.lock"
  flock -n 9
  reconcile -H
  exec 9>&-
  [ "$status" -eq 75 ] || { echo "exit $status: $output"; return 1; }
  grep -q 'healing skipped' <<<"$output"
}
