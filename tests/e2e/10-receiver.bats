# DirectAdmin's side of the receiver (PROTOCOL.md section 3): login test,
# authentication, exists (plain, parent check 3 and 2), POST without action.
# Real lighttpd running bin/zonedrop.cgi, real NSD, zonedrop-drain for "held".
load lib/servers

D=held.e2e.example

setup_file() {
  e2e_init
  start_nsd
  write_config
  start_lighttpd
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

@test "login test: GET over HTTP/1.0 answers 200 error=0&text=Login OK" {
  run zdc login
  answer_is "$output" 200 error=0 "text=Login OK"
}

@test "login test: POST over HTTP/1.0 answers the same" {
  run zdc login --post
  answer_is "$output" 200 error=0 "text=Login OK"
}

@test "login test: no credentials give 401, error=1 and a Basic challenge" {
  run zdc login --no-auth
  answer_is "$output" 401 error=1
  run curl --http1.0 -sS -i "$ZD_URL/CMD_API_LOGIN_TEST"
  grep -qi '^WWW-Authenticate: Basic' <<<"$output" || { echo "no Basic challenge in: $output"; return 1; }
}

@test "login test: wrong password or unknown user give 401 error=1" {
  run zdc login --auth "$ZD_USER:wrong-$ZD_PASS"
  answer_is "$output" 401 error=1
  run zdc login --auth "nobody:$ZD_PASS"
  answer_is "$output" 401 error=1
}

@test "exists without credentials: 401 error=1" {
  run zdc exists --no-auth "$D"
  answer_is "$output" 401 error=1
}

@test "exists: a domain never pushed answers exists=0 (GET, parent flag, POST form)" {
  run zdc exists never-pushed.e2e.example
  answer_is "$output" 200 error=0 exists=0
  run zdc exists --parent shop.never-pushed.e2e.example
  answer_is "$output" 200 error=0 exists=0
  run zdc exists --post never-pushed.e2e.example
  answer_is "$output" 200 error=0 exists=0
}

@test "POST without action and with an empty body answers error=0&text=OK, spools nothing" {
  local before
  before=$(spool_names new)$(spool_names tmp)
  run zdc request POST /CMD_API_DNS_ADMIN
  answer_is "$output" 200 error=0 text=OK
  [ "$(spool_names new)$(spool_names tmp)" = "$before" ] || { echo "something was spooled"; return 1; }
}

@test "exists: 0 before the push, still 0 while only spooled, 1 once drained" {
  run zdc exists "$D"
  answer_is "$output" 200 error=0 exists=0
  da_zone "$D" 2026040101 192.0.2.41 > "$BATS_TEST_TMPDIR/z"
  push_ok "$D" "$BATS_TEST_TMPDIR/z" --hostname da1.e2e.example --username alice
  run zdc exists "$D"
  answer_is "$output" 200 error=0 exists=0
  drain_ok
  served "$D" 2026040101
  run zdc exists "$D"
  answer_is "$output" 200 error=0 exists=1
  run zdc exists --post "$D"
  answer_is "$output" 200 error=0 exists=1
}

@test "exists: the held domain itself with the parent flag is exists=1, naming its owner" {
  run zdc exists --parent "$D"
  answer_is "$output" 200 error=0 exists=1 details=~da1.e2e.example
}

@test "parent check: a subdomain of a held zone gives exists=3 with hostname and username" {
  run zdc exists --parent "shop.$D"
  answer_is "$output" 200 error=0 exists=3 hostname=da1.e2e.example username=alice
  # nearest held ancestor, more than one level up
  run zdc exists --parent "a.b.shop.$D"
  answer_is "$output" 200 error=0 exists=3 hostname=da1.e2e.example username=alice
}

@test "parent check: without the flag a subdomain is exists=0" {
  run zdc exists "shop.$D"
  answer_is "$output" 200 error=0 exists=0
}

@test "parent check: ancestors compare label-wise (x$D is not under $D)" {
  run zdc exists --parent "shop.x$D"
  answer_is "$output" 200 error=0 exists=0
}

@test "parent check with receiver.parent_exists: 2 answers exists=2 naming the owner's hostname" {
  write_config 2
  run zdc exists --parent "shop.$D"
  write_config 3
  answer_is "$output" 200 error=0 exists=2 details=~da1.e2e.example
}

@test "a push with a wrong password: 401 error=1, nothing spooled" {
  local before
  before=$(spool_names new)$(spool_names tmp)
  da_zone wrong-pass.e2e.example 2026040102 > "$BATS_TEST_TMPDIR/z"
  run zdc push wrong-pass.e2e.example "$BATS_TEST_TMPDIR/z" --auth "$ZD_USER:nope"
  answer_is "$output" 401 error=1
  [ "$(spool_names new)$(spool_names tmp)" = "$before" ] || { echo "something was spooled"; return 1; }
}

@test "answers are text/plain with the status matching error= (2xx <=> error=0)" {
  run curl --http1.0 -sS -i -u "$ZD_USER:$ZD_PASS" "$ZD_URL/CMD_API_LOGIN_TEST"
  grep -qi '^Content-Type: text/plain' <<<"$output" || { echo "$output"; return 1; }
  run curl --http1.0 -sS -i -u "$ZD_USER:$ZD_PASS" "$ZD_URL/CMD_API_DNS_ADMIN?action=frobnicate&domain=a.example.net"
  grep -q '^HTTP/1\.[01] 4' <<<"$output" || { echo "$output"; return 1; }
  grep -q 'error=1' <<<"$output" || { echo "$output"; return 1; }
}
