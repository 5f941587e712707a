# Peer sync (PROTOCOL.md section 8): instances heal each other without a shared
# database. Real lighttpd + zonedrop.cgi + NSD per instance (lib/peers.bash), a
# fake peer in python3 for the hostile cases. Tests build on each other.
load lib/servers
load lib/peers

H=da1.e2e.example

setup_file() {
  e2e_init
  peers_init
  inst_new A
  inst_new B
  inst_new C
  inst_config A B
  inst_config B A
  inst_config C A B
  inst_web_start A
  inst_web_start B
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

zone() { da_zone "$1" "$2" "${3:-192.0.2.10}" > "$BATS_TEST_TMPDIR/$1.$2"; echo "$BATS_TEST_TMPDIR/$1.$2"; }
push_to() { local i=$1 d=$2 s=$3 f; f=$(zone "$d" "$s" "${4:-192.0.2.10}"); on "$i" push_ok "$d" "$f" --hostname "$H" --username alice; }

@test "setup: both instances hold the same three zones" {
  local i d
  for i in A B; do
    for d in keep.peers.example change.peers.example gone.peers.example; do
      push_to "$i" "$d" 2026060101
    done
    inst_drain "$i"
  done
  for i in A B; do on "$i" served gone.peers.example 2026060101; done
}

@test "/internal: DA receiver users 403, wrong or no credentials 401, peers get data" {
  run internal_get A /internal/zones "$ZD_USER:$ZD_PASS"
  [[ $output == *"HTTP 403" ]] || { echo "DA user: $output"; return 1; }
  run internal_get A /internal/zones "$PEER_USER:wrong"
  [[ $output == *"HTTP 401" ]] || { echo "wrong password: $output"; return 1; }
  run curl -sS -w '\nHTTP %{http_code}\n' "$(inst_url A)/internal/zones"
  [[ $output == *"HTTP 401" ]] || { echo "no credentials: $output"; return 1; }
  run internal_get A /internal/zones
  [[ $output == *"HTTP 200" ]] || { echo "peer: $output"; return 1; }
  run curl -sS -d "" -u "$PEER_USER:$PEER_PASS" -w '\nHTTP %{http_code}\n' "$(inst_url A)/internal/zones"
  [[ $output == *"HTTP 405" ]] || { echo "POST: $output"; return 1; }
  run internal_get A /internal/other
  [[ $output == *"HTTP 404" ]] || { echo "/internal/other: $output"; return 1; }
}

@test "/internal/zones: sorted ndjson with its trailer; since= filters; unknown domain 404" {
  local body
  body=$(internal_get A /internal/zones | sed '$d')
  "$PY" - "$body" <<'PY'
import json, sys
lines = sys.argv[1].splitlines()
rows = [json.loads(l) for l in lines]
assert rows[-1] == {"end": True, "count": len(rows) - 1}, rows[-1]
doms = [r["domain"] for r in rows[:-1]]
assert doms == sorted(doms) and len(doms) == 3, doms
for r in rows[:-1]:
    assert r["state"] == "present" and r["serial"] == 2026060101 and len(r["sha256"]) == 64, r
    assert r["hostname"] == "da1.e2e.example" and r["username"] == "alice", r
PY
  run internal_get A "/internal/zones?since=2099-01-01T00:00:00Z"
  [ "${lines[0]}" = '{"end":true,"count":0}' ] || { echo "$output"; return 1; }
  run internal_get A "/internal/zones?since=2000-01-01T00:00:00Z"
  [ "${lines[3]}" = '{"end":true,"count":3}' ] || { echo "$output"; return 1; }
  run internal_get A "/internal/zones?since=yesterday"
  [[ $output == *"HTTP 400" ]] || { echo "$output"; return 1; }
  run internal_get A "/internal/zones?domain=unknown.peers.example"
  [ "${lines[0]}" = "error=1&text=not%20found" ] && [ "${lines[1]}" = "HTTP 404" ] || { echo "$output"; return 1; }
  # one zone: the list fields plus its text, whose sha256 is the list's
  body=$(internal_get A "/internal/zones?domain=keep.peers.example" | sed '$d')
  "$PY" - "$body" "$BATS_TEST_TMPDIR" <<'PY'
import hashlib, json, sys
r = json.loads(sys.argv[1])
assert r["domain"] == "keep.peers.example" and r["state"] == "present", r
assert hashlib.sha256(r["zone"].encode()).hexdigest() == r["sha256"], "sha256 is not over the text"
assert "SOA" in r["zone"]
PY
}

@test "B misses pushes and a delete while down; a peer with the old zone never resurrects it" {
  inst_web_stop B
  push_to A change.peers.example 2026060102 192.0.2.22
  push_to A new.peers.example 2026060101
  on A delete_ok gone.peers.example --hostname "$H"
  inst_drain A
  on A absent gone.peers.example
  inst_web_start B
  # A asks B, which still holds gone at the same serial: the tombstone wins
  run inst_peersync A
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(on A spool_count new)" -eq 0 ] || { on A spool_names new; return 1; }
  inst_drain A
  on A absent gone.peers.example
  # B heals from A: the change, the new zone and the delete
  run inst_peersync B
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"[new.peers.example.] peer="*"action=rawsave serial=2026060101"*"spooled"* ]]
  [[ $output == *"[change.peers.example.] peer="*"action=rawsave serial=2026060102"*"spooled"* ]]
  [[ $output == *"[gone.peers.example.] peer="*"action=delete serial=2026060101"*"spooled"* ]]
  grep -l '^Source: peer$' "$T"/B/spool/new/* >/dev/null
  inst_drain B
  on B served change.peers.example 2026060102
  on B expect_answer www.change.peers.example A 192.0.2.22
  on B served new.peers.example 2026060101
  on B absent gone.peers.example
  diff <(inst_zoneset A) <(inst_zoneset B)
  # the owner came along from the peer's metadata
  inst_zd B show new.peers.example | grep -q "$H"
  # nothing newer any more: a second run spools nothing
  run inst_peersync B
  [ "$status" -eq 0 ] && [ "$(on B spool_count new)" -eq 0 ] || { echo "$output"; on B spool_names new; return 1; }
}

@test "A misses a push that B got: A heals from B" {
  inst_web_stop A
  push_to B late.peers.example 2026060105 192.0.2.55
  inst_drain B
  inst_web_start A
  run inst_peersync A
  echo "$output"
  [ "$status" -eq 0 ]
  inst_drain A
  on A served late.peers.example 2026060105
  on A expect_answer www.late.peers.example A 192.0.2.55
  diff <(inst_zoneset A) <(inst_zoneset B)
}

@test "hostile peers: same serial other content, future time, garbage, no trailer, redirect, bad zones" {
  local ch now_future f
  fake_peer_start
  ch=$(internal_get A "/internal/zones?domain=keep.peers.example" | sed '$d' | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["changed"])')
  now_future=$("$PY" -c 'import datetime; print((datetime.datetime.utcnow()+datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000000Z"))')
  fp() { "$PY" "$E2E_LIB/fakepeer.py" "$@"; }
  # tricky: keep.* at our serial and time but other content; change.* at our serial,
  # older time; future.* new but a day ahead; new.* at our serial, far future time
  f=$(zone keep.peers.example 2026060101 198.51.100.1)
  fp entry "$T" tricky change.peers.example 2026060102 2020-01-01T00:00:00.000000Z --zone "$(zone change.peers.example 2026060102 198.51.100.2)"
  fp entry "$T" tricky future.peers.example 2026060101 "$now_future" --zone "$(zone future.peers.example 2026060101 198.51.100.3)"
  fp entry "$T" tricky keep.peers.example 2026060101 "$ch" --zone "$f"
  fp entry "$T" tricky new.peers.example 2026060101 "$now_future" --zone "$(zone new.peers.example 2026060101 198.51.100.4)"
  fp trailer "$T" tricky
  mkdir -p "$T/fake/garbage"
  printf '<html><body>It works!</body></html>\n' > "$T/fake/garbage/list"
  fp entry "$T" notrailer zz-notrailer.peers.example 2026060101 2026-01-01T00:00:00Z --zone "$(zone zz-notrailer.peers.example 2026060101)"
  mkdir -p "$T/fake/redirect"
  echo 302 > "$T/fake/redirect/status"
  echo "$FAKE_URL/elsewhere/internal/zones" > "$T/fake/redirect/location"
  # badzone: a zone with a record outside its apex; a zone whose text is not its sha256
  printf '$TTL 300\n@ IN SOA ns1.evil.example. h.evil.example. ( 5 3600 600 86400 300 )\n@ IN NS ns1.evil.example.\nwww.victim.example. IN A 192.0.2.66\n' > "$BATS_TEST_TMPDIR/outside"
  fp entry "$T" badzone outside.peers.example 5 2026-01-01T00:00:00Z --zone "$BATS_TEST_TMPDIR/outside"
  fp entry "$T" badzone sha.peers.example 2026060101 2026-01-01T00:00:00Z --zone "$(zone sha.peers.example 2026060101)" --bad-sha
  fp trailer "$T" badzone
  inst_config A "$FAKE_URL/tricky@u-tricky" "$FAKE_URL/garbage@u-garbage" "$FAKE_URL/notrailer@u-notrailer" \
    "$FAKE_URL/redirect@u-redirect" "$FAKE_URL/badzone@u-badzone"
  run inst_peersync A
  echo "$output"
  inst_config A B
  [ "$status" -eq 1 ]
  [[ $output == *"[keep.peers.example.] peer=$FAKE_URL/tricky serial=2026060101 changed=$ch: same serial and time as ours but other content; kept ours"* ]]
  [[ $output == *"[future.peers.example.] peer=$FAKE_URL/tricky serial=2026060101 changed=$now_future is more than 300 s ahead of our clock: not trusted, skipped"* ]]
  [[ $output == *"[new.peers.example.] peer=$FAKE_URL/tricky"*"ahead of our clock"* ]]
  [[ $output == *"peer=$FAKE_URL/garbage list unusable: not JSON"* ]]
  [[ $output == *"peer=$FAKE_URL/notrailer list incomplete (no trailer after 1 entries): not acted upon"* ]]
  [[ $output == *"peer=$FAKE_URL/redirect list: answered a redirect (302), not followed"* ]]
  [[ $output == *"[outside.peers.example.] peer=$FAKE_URL/badzone serial=5 zone refused: Invalid zone data: "* ]]
  [[ $output == *"[sha.peers.example.] peer=$FAKE_URL/badzone zone answer refused: zone text does not match its sha256"* ]]
  # nothing was spooled: no wrong overwrite, nothing from an incomplete or bad peer
  [ "$(on A spool_count new)" -eq 0 ] || { on A spool_names new; return 1; }
  # change.* (older time at our serial) was not even fetched; the redirect was not followed
  ! grep -q "change.peers.example" "$FAKE_LOG"
  ! grep -q "^elsewhere" "$FAKE_LOG"
  # each remote got its own user name, and only that
  run awk '{ split($2, p, "/"); if ("u-" p[2] != $3) print }' "$FAKE_LOG"
  [ -z "$output" ] || { echo "credentials sent to the wrong remote: $output"; return 1; }
  grep -q "^tricky /tricky/internal/zones u-tricky$" "$FAKE_LOG"
}

@test "a peer item that lost the race is not applied by the drain" {
  local f
  # a push reaches A after peersync decided: the older peer item must not undo it
  f=$(zone keep.peers.example 2026060103 192.0.2.33)
  on A push_ok keep.peers.example "$f" --hostname "$H" --username alice
  f=$(zone keep.peers.example 2026060102 192.0.2.99)
  on A sh -c '"$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" push keep.peers.example "$1" >/dev/null 2>&1' sh "$f"
  # make the CLI item look like a peer's (Source: peer, Changed: from far back)
  f=$(ls -t "$T"/A/spool/new/* | head -1)
  sed -i -e 's/^Source: cli$/Source: peer/' -e '/^Received: /a Changed: 2020-01-01T00:00:00.000000Z' "$f"
  inst_drain A
  grep -q "\[keep.peers.example.\] item=.* from a peer (serial=2026060102 changed=2020-01-01T00:00:00.000000Z) not applied: ours (serial=2026060103) wins now" "$T/drains.log"
  on A served keep.peers.example 2026060103
}

@test "three instances in a mesh converge" {
  inst_config A B C
  inst_config B A C
  inst_config C A B
  inst_web_start C
  push_to A only-a.mesh.example 2026070101
  push_to B only-b.mesh.example 2026070101
  push_to C only-c.mesh.example 2026070101
  push_to A all.mesh.example 2026070101
  push_to B all.mesh.example 2026070102
  push_to C all.mesh.example 2026070103 192.0.2.73
  push_to C gone.mesh.example 2026070101
  push_to A gone.mesh.example 2026070101
  inst_drain A
  inst_drain B
  inst_drain C
  on C delete_ok gone.mesh.example --hostname "$H"
  inst_drain C
  local i
  for i in A B C; do
    run inst_peersync "$i"
    echo "$output"
    [ "$status" -eq 0 ]
    inst_drain "$i"
  done
  diff <(inst_zoneset A) <(inst_zoneset B)
  diff <(inst_zoneset A) <(inst_zoneset C)
  for i in A B C; do
    on "$i" served only-a.mesh.example 2026070101
    on "$i" served only-b.mesh.example 2026070101
    on "$i" served only-c.mesh.example 2026070101
    on "$i" served all.mesh.example 2026070103
    on "$i" expect_answer www.all.mesh.example A 192.0.2.73
    on "$i" absent gone.mesh.example
  done
  # converged: nobody has anything newer for anybody
  for i in A B C; do
    run inst_peersync "$i"
    [ "$status" -eq 0 ] && [ "$(on "$i" spool_count new)" -eq 0 ] || { echo "$i: $output"; return 1; }
  done
}
