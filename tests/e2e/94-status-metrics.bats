# /status and /metrics through lighttpd (issue 7 item 6, issue 3 item 4): a real
# NSD (nsd1) and a second NSD backend whose server never runs (nsd2: its
# nsd-control fails), retry schedule [1s] so its zones fail fast. The failed
# zone shows in /status and in `zonedrop status`; /metrics passes a strict
# text-format check (tests/e2e/lib/promcheck.py, and promtool)
# at 10,000 zones, with the scrape time printed; the CGI's counters count
# accepted and rejected requests by reason, and without the counters file
# pushes still work. Only receiver.users may read either endpoint.
# Tests build on each other (one spool, in file order).
load lib/servers

PEER_USER=peer-e2e
PEER_PASS=peer-e2e-secret

setup_file() {
  e2e_init
  start_nsd
  mkdir -p "$T/nsd2/zones"
  : > "$T/nsd2/zonedrop.conf"
  NSD2_PORT=$(free_ports 1)
  export NSD2_PORT
  write_config 3 1048576 "  nsd2:
    type: nsd
    enabled: true
    zones_dir: $T/nsd2/zones
    include_file: $T/nsd2/zonedrop.conf
    control: \"nsd-control -c $T/nsd2/nsd.conf\"
    verify: 127.0.0.1@$NSD2_PORT
retry:
  schedule: [1s]
peers:
  users:
    - name: $PEER_USER
      password: \"$PEER_PASS\""
  start_lighttpd
}
teardown_file() { e2e_cleanup; }
teardown() {
  # the counters file a test moved away comes back, whatever the test did
  [ ! -e "$T/counters.saved" ] || mv -f "$T/counters.saved" "$ZD_SPOOL/counters"
  e2e_teardown
}

zd() { "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" "$@"; }

# get PATH [CURL ARGS]: GET through lighttpd with the receiver account; the body
# to $BATS_TEST_TMPDIR/body, the headers to .../head; prints the HTTP status
get() {
  local path=$1
  shift
  curl -sS -o "$BATS_TEST_TMPDIR/body" -D "$BATS_TEST_TMPDIR/head" -w '%{http_code}' \
    -u "$ZD_USER:$ZD_PASS" "$@" "$ZD_URL$path"
}

# jq-less JSON access: json EXPR (python, the document is d)
json() {
  "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
    "$BATS_TEST_TMPDIR/body" "$1"
}

# metric SERIES: the value of one series in $BATS_TEST_TMPDIR/body, e.g. 'zonedrop_zones{state="present"}'
metric() { awk -v s="$1" '$1 == s { print $2 }' "$BATS_TEST_TMPDIR/body"; }

# counter NAME: from a fresh /metrics scrape (a rejected_* reason or an accepted action)
counter() {
  get /metrics > /dev/null
  case $1 in
    rawsave|delete) metric "zonedrop_pushes_total{action=\"$1\",result=\"accepted\"}" ;;
    *) metric "zonedrop_requests_rejected_total{reason=\"$1\"}" ;;
  esac
}

# metrics_check: the scraped body passes promcheck.py and Prometheus' own
# promtool (Debian's prometheus package, installed by scripts/install-deps)
metrics_check() {
  run "$PY" "$E2E_LIB/promcheck.py" --prefix zonedrop_ "$BATS_TEST_TMPDIR/body"
  [ "$status" -eq 0 ] || { echo "promcheck: $output"; return 1; }
  command -v promtool > /dev/null || { echo "promtool missing: run scripts/install-deps"; return 1; }
  run promtool check metrics < "$BATS_TEST_TMPDIR/body"
  [ "$status" -eq 0 ] || { echo "promtool check metrics: $output"; return 1; }
}

@test "/status before any drain: what is live, \"drain\": null; /metrics passes the format check" {
  da_zone st-first.e2e.example 2026100101 > "$BATS_TEST_TMPDIR/z"
  push_ok st-first.e2e.example "$BATS_TEST_TMPDIR/z"
  [ "$(get /status)" = 200 ] || { cat "$BATS_TEST_TMPDIR/head" "$BATS_TEST_TMPDIR/body"; return 1; }
  grep -qi '^Content-Type: application/json' "$BATS_TEST_TMPDIR/head" \
    || { cat "$BATS_TEST_TMPDIR/head"; return 1; }
  [ "$(json 'd["drain"]')" = None ] || { cat "$BATS_TEST_TMPDIR/body"; return 1; }
  [ "$(json 'd["spool"]["new"]["count"]')" = 1 ] || { cat "$BATS_TEST_TMPDIR/body"; return 1; }
  [ "$(json 'd["counters"]["accepted_rawsave"]')" = 1 ] || { cat "$BATS_TEST_TMPDIR/body"; return 1; }
  [ "$(get /metrics)" = 200 ]
  grep -qi '^Content-Type: text/plain; version=0.0.4' "$BATS_TEST_TMPDIR/head" \
    || { cat "$BATS_TEST_TMPDIR/head"; return 1; }
  metrics_check
  [ "$(metric zonedrop_status_published)" = 0 ] && [ "$(metric 'zonedrop_spool_items{state="new"}')" = 1 ] \
    || { cat "$BATS_TEST_TMPDIR/body"; return 1; }
}

@test "a backend whose retries ran out: its failed zone in /status, /metrics and zonedrop status" {
  local d=st-first.e2e.example i
  drain
  [ "$status" -eq 1 ] || { echo "drain with nsd2 down exited $status, wanted 1: $output"; return 1; }
  served "$d" 2026100101
  # schedule [1s]: the second failure is the last
  for i in $(seq 10); do
    [ "$(zd status --json | "$PY" -c 'import json,sys; print([b for b in json.load(sys.stdin)["backends"] if b["name"] == "nsd2"][0]["failed"])')" = 1 ] && break
    sleep 1
    drain
  done
  [ "$(get /status)" = 200 ]
  [ "$(json '[b for b in d["drain"]["backends"] if b["name"] == "nsd2"][0]["failed"]')" = 1 ] \
    || { echo "nsd2 never reached failed:"; cat "$BATS_TEST_TMPDIR/body"; return 1; }
  [ "$(json '[b for b in d["drain"]["backends"] if b["name"] == "nsd2"][0]["failures"][0]["domain"]')" = "$d" ] \
    || { cat "$BATS_TEST_TMPDIR/body"; return 1; }
  [ "$(json '[b for b in d["drain"]["backends"] if b["name"] == "nsd2"][0]["failures"][0]["attempts"]')" -ge 2 ]
  [ -n "$(json '[b for b in d["drain"]["backends"] if b["name"] == "nsd2"][0]["failures"][0]["last_error"]')" ]
  [ "$(json '[b for b in d["drain"]["backends"] if b["name"] == "nsd1"][0]["applied"]')" = 1 ] \
    || { cat "$BATS_TEST_TMPDIR/body"; return 1; }
  [ "$(json 'd["drain"]["last_drain"]["result"]')" = failed ]
  [ "$(get /metrics)" = 200 ]
  metrics_check
  [ "$(metric 'zonedrop_backend_zones{backend="nsd2",state="failed"}')" = 1 ] \
    && [ "$(metric 'zonedrop_backend_zones{backend="nsd1",state="ok"}')" = 1 ] \
    && [ "$(metric zonedrop_last_drain_success)" = 0 ] \
    || { cat "$BATS_TEST_TMPDIR/body"; return 1; }
  run zd status
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  grep -qP "^failed\tnsd2\t$d\tfailed\tattempts=[0-9]+\terror=." <<<"$output" \
    || { echo "no failed line for $d on nsd2:"; echo "$output"; return 1; }
  run zd status --json
  "$PY" -c 'import json, sys; d = json.loads(sys.argv[1]); assert [k for k in d] == ["spool", "state", "last_drain", "zones", "backends", "counters"], list(d); b = d["backends"][1]; assert b["failures"][0]["domain"] == sys.argv[2] and b["failures_total"] == 1' "$output" "$d" \
    || { echo "$output"; return 1; }
}

@test "only receiver users: a peers account and wrong credentials get 401; POST is 405 with Allow: GET" {
  local p
  for p in /status /metrics; do
    [ "$(get "$p" -u "$PEER_USER:$PEER_PASS")" = 401 ] || { echo "peer on $p: $(cat "$BATS_TEST_TMPDIR/head")"; return 1; }
    [ "$(get "$p" -u "$ZD_USER:wrong-$ZD_PASS")" = 401 ] || { echo "wrong password on $p"; return 1; }
    [ "$(curl -sS -o /dev/null -w '%{http_code}' "$ZD_URL$p")" = 401 ] || { echo "no credentials on $p"; return 1; }
    [ "$(get "$p" -X POST --data x)" = 405 ] || { echo "POST $p: $(cat "$BATS_TEST_TMPDIR/head")"; return 1; }
    grep -qi '^Allow: GET' "$BATS_TEST_TMPDIR/head" || { cat "$BATS_TEST_TMPDIR/head"; return 1; }
  done
  # the peer account still works where it belongs
  [ "$(get /internal/zones -u "$PEER_USER:$PEER_PASS")" != 401 ]
}

@test "counters: accepted pushes and deletes, rejections by reason (auth, bad_zone, too_large, bad_request)" {
  local r0 d0 a0 z0 l0 b0 big=$BATS_TEST_TMPDIR/big
  r0=$(counter rawsave) d0=$(counter delete) a0=$(counter auth) z0=$(counter bad_zone)
  l0=$(counter too_large) b0=$(counter bad_request)
  da_zone st-count.e2e.example 2026100201 > "$BATS_TEST_TMPDIR/z"
  push_ok st-count.e2e.example "$BATS_TEST_TMPDIR/z"
  push_ok st-count.e2e.example "$BATS_TEST_TMPDIR/z"
  delete_ok st-count.e2e.example
  printf '$TTL 300\nwww IN A 192.0.2.1\n' > "$BATS_TEST_TMPDIR/nosoa"
  run push st-count-bad.e2e.example "$BATS_TEST_TMPDIR/nosoa"
  answer_is "$output" 400 error=1
  run zdc login --auth "$ZD_USER:wrong"
  answer_is "$output" 401 error=1
  head -c 1100000 /dev/zero | tr '\0' 'a' > "$big"
  run push st-count-big.e2e.example "$big"
  answer_is "$output" 413 error=1
  run push '../bad..name' "$BATS_TEST_TMPDIR/z"
  answer_is "$output" 400 error=1
  [ "$(counter rawsave)" -eq $((r0 + 2)) ] || { echo "rawsave $r0 -> $(counter rawsave)"; return 1; }
  [ "$(counter delete)" -eq $((d0 + 1)) ] || { echo "delete $d0 -> $(counter delete)"; return 1; }
  [ "$(counter bad_zone)" -eq $((z0 + 1)) ] || { echo "bad_zone $z0 -> $(counter bad_zone)"; return 1; }
  [ "$(counter auth)" -eq $((a0 + 1)) ] || { echo "auth $a0 -> $(counter auth)"; return 1; }
  [ "$(counter too_large)" -eq $((l0 + 1)) ] || { echo "too_large $l0 -> $(counter too_large)"; return 1; }
  [ "$(counter bad_request)" -eq $((b0 + 1)) ] || { echo "bad_request $b0 -> $(counter bad_request)"; return 1; }
  run zd status
  grep -qP "^counters\t.*accepted_rawsave=$((r0 + 2))(\t|$)" <<<"$output" || { echo "$output"; return 1; }
  drain
}

@test "no counters file: pushes still work, nothing is created, /metrics says counters_enabled 0" {
  mv "$ZD_SPOOL/counters" "$T/counters.saved"
  da_zone st-nocount.e2e.example 2026100301 > "$BATS_TEST_TMPDIR/z"
  push_ok st-nocount.e2e.example "$BATS_TEST_TMPDIR/z"
  run zdc login --auth "$ZD_USER:wrong"
  answer_is "$output" 401 error=1
  [ ! -e "$ZD_SPOOL/counters" ] || { echo "the CGI created the counters file"; return 1; }
  [ "$(get /status)" = 200 ]
  [ "$(json 'd["counters"]')" = None ] || { cat "$BATS_TEST_TMPDIR/body"; return 1; }
  [ "$(get /metrics)" = 200 ]
  metrics_check
  [ "$(metric zonedrop_counters_enabled)" = 0 ] || { cat "$BATS_TEST_TMPDIR/body"; return 1; }
  if grep -q '^zonedrop_pushes_total' "$BATS_TEST_TMPDIR/body"; then
    echo "push counts without a counters file"; return 1
  fi
  mv "$T/counters.saved" "$ZD_SPOOL/counters"
  drain
}

@test "10,000 zones: /metrics passes the format check and lists them; scrape times printed" {
  local t n
  run "$PY" "$E2E_LIB/spoolgen.py" "$ZD_SPOOL" --count 10000 --prefix st --suffix metrics.e2e.example
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  say "$output"
  t=$(curl -sS -o "$BATS_TEST_TMPDIR/body" -w '%{time_total}' -u "$ZD_USER:$ZD_PASS" "$ZD_URL/metrics")
  say "scrape /metrics with 10,000 items in new/: ${t}s"
  metrics_check
  n=$(metric 'zonedrop_spool_items{state="new"}')
  [ "$n" -ge 10000 ] || { echo "new/ holds $n by /metrics"; return 1; }
  drain
  [ "$status" -eq 1 ] || { echo "drain exited $status, wanted 1 (nsd2 down): $(tail -5 <<<"$output")"; return 1; }
  t=$(curl -sS -o "$BATS_TEST_TMPDIR/body" -w '%{time_total}' -u "$ZD_USER:$ZD_PASS" "$ZD_URL/metrics")
  say "scrape /metrics at 10,000 zones: ${t}s"
  metrics_check
  n=$(metric 'zonedrop_zones{state="present"}')
  [ "$n" -ge 10000 ] || { echo "zonedrop_zones present=$n"; return 1; }
  [ "$(metric 'zonedrop_backend_zones{backend="nsd1",state="ok"}')" -ge 10000 ] \
    || { grep backend_zones "$BATS_TEST_TMPDIR/body"; return 1; }
  t=$(curl -sS -o "$BATS_TEST_TMPDIR/body" -w '%{time_total}' -u "$ZD_USER:$ZD_PASS" "$ZD_URL/status")
  say "scrape /status at 10,000 zones: ${t}s ($(wc -c < "$BATS_TEST_TMPDIR/body") bytes)"
  # nsd2 is still down: its 10,000 new zones wait for a retry, and the next
  # failure is their last; the list of failed zones stays capped at 100
  [ "$(json '[b for b in d["drain"]["backends"] if b["name"] == "nsd2"][0]["retry"]')" -ge 10000 ] \
    || { json '[b for b in d["drain"]["backends"] if b["name"] == "nsd2"][0]'; return 1; }
  sleep 1
  drain
  [ "$status" -eq 1 ] || { echo "drain exited $status, wanted 1 (nsd2 down): $(tail -5 <<<"$output")"; return 1; }
  [ "$(get /status)" = 200 ]
  [ "$(json '[b for b in d["drain"]["backends"] if b["name"] == "nsd2"][0]["failures_total"]')" -gt 10000 ] \
    || { json '[b for b in d["drain"]["backends"] if b["name"] == "nsd2"][0]["failures_total"]'; return 1; }
  [ "$(json 'len([b for b in d["drain"]["backends"] if b["name"] == "nsd2"][0]["failures"])')" -eq 100 ]
  [ "$(get /metrics)" = 200 ]
  metrics_check
  [ "$(metric 'zonedrop_backend_zones{backend="nsd2",state="failed"}')" -gt 10000 ] \
    || { grep backend_zones "$BATS_TEST_TMPDIR/body"; return 1; }
  run zd status
  [ "$(grep -c "^failed	nsd2	" <<<"$output")" -eq 101 ] || { echo "$output" | head -20; return 1; }
}
