# zonedrop.cgi as a FastCGI application: the same binary, one process serving
# many requests. lighttpd's mod_fastcgi spawns it ("bin-path"); nginx talks to it
# through spawn-fcgi. The receiver and hostile-request suites run again under
# FastCGI (ZD_WEB=fastcgi makes start_lighttpd use mod_fastcgi), in a clean
# environment (inside bats, PATH finds bats-core's inner bats first).
load lib/servers

D=via-fastcgi.e2e.example

setup_file() {
  e2e_init
  start_nsd
  write_config
  start_lighttpd_fastcgi 2
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }
login_answers() { zdc login | grep -q '^200 '; }

@test "fastcgi: the receiver suite (10-receiver.bats) passes under mod_fastcgi" {
  run env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOME" ZONEDROP_BIN="$ZONEDROP_BIN" ZD_WEB=fastcgi bats "$REPO/tests/e2e/10-receiver.bats"
  [ "$status" -eq 0 ] || { printf '%s\n' "$output" | grep -v '^ok' | head -40; return 1; }
}

@test "fastcgi: the hostile-request suite (30-bad-requests.bats) passes under mod_fastcgi" {
  run env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOME" ZONEDROP_BIN="$ZONEDROP_BIN" ZD_WEB=fastcgi bats "$REPO/tests/e2e/30-bad-requests.bats"
  [ "$status" -eq 0 ] || { printf '%s\n' "$output" | grep -v '^ok' | head -40; return 1; }
}

@test "fastcgi: push, drain, served; the same processes answer every request" {
  local before after
  before=$(fastcgi_pids | sort | paste -sd' ' -)
  [ -n "$before" ]
  run zdc exists "$D"
  answer_is "$output" 200 error=0 exists=0
  da_zone "$D" 2026112301 192.0.2.61 > "$BATS_TEST_TMPDIR/z"
  for i in 1 2 3 4 5; do push_ok "$D" "$BATS_TEST_TMPDIR/z"; done
  [ "$(spool_count new)" -eq 5 ]
  drain_ok
  served "$D" 2026112301
  expect_answer "www.$D" A 192.0.2.61
  run zdc exists "$D"
  answer_is "$output" 200 error=0 exists=1
  after=$(fastcgi_pids | sort | paste -sd' ' -)
  [ "$before" = "$after" ] || { echo "processes changed: $before -> $after"; return 1; }
}

@test "fastcgi: a changed config (new password) takes effect without a restart" {
  local old=$ZD_PASS
  sed -i "s/password: \"$old\"/password: \"fresh-$old\"/" "$ZD_CONFIG"
  run zdc login
  answer_is "$output" 401 error=1
  ZD_PASS=fresh-$old run zdc login
  answer_is "$output" 200 error=0 "text=Login OK"
  sed -i "s/password: \"fresh-$old\"/password: \"$old\"/" "$ZD_CONFIG"
  run zdc login
  answer_is "$output" 200 error=0 "text=Login OK"
}

@test "fastcgi: a config that does not load gives 500 error=1, and the fix is picked up" {
  cp "$ZD_CONFIG" "$BATS_TEST_TMPDIR/good.yml"
  printf 'receiver: [\n' >> "$ZD_CONFIG"
  run zdc login
  answer_is "$output" 500 error=1
  cp "$BATS_TEST_TMPDIR/good.yml" "$ZD_CONFIG"
  run zdc login
  answer_is "$output" 200 error=0 "text=Login OK"
}

@test "fastcgi: kill -9 of a FastCGI process loses no accepted push" {
  local p n
  da_zone "k9.$D" 2026112302 > "$BATS_TEST_TMPDIR/k"
  n=$(spool_count new)
  push_ok "k9.$D" "$BATS_TEST_TMPDIR/k"
  [ "$(spool_count new)" -eq $((n + 1)) ]
  for p in $(fastcgi_pids); do kill -9 "$p"; done
  # lighttpd starts new processes when a request finds none
  wait_until 15 "a FastCGI answer after kill -9" login_answers
  for p in $(fastcgi_pids); do remember zonedrop-fcgi "$p"; done
  push_ok "k9.$D" "$BATS_TEST_TMPDIR/k"
  [ "$(spool_count tmp)" -eq 0 ]
  drain_ok
  served "k9.$D" 2026112302
}

@test "fastcgi: SIGTERM ends a FastCGI process between requests" {
  local p
  p=$(fastcgi_pids | head -1)
  [ -n "$p" ]
  kill -TERM "$p"
  wait_until 10 "zonedrop.cgi $p exits on SIGTERM" sh -c "! kill -0 $p 2>/dev/null"
}

@test "fastcgi: nginx + spawn-fcgi (examples/nginx.conf) serve pushes too" {
  start_nginx_spawn_fcgi
  ZD_URL=$NGINX_URL run zdc login
  answer_is "$output" 200 error=0 "text=Login OK"
  da_zone "ng.$D" 2026112303 192.0.2.63 > "$BATS_TEST_TMPDIR/n"
  ZD_URL=$NGINX_URL push_ok "ng.$D" "$BATS_TEST_TMPDIR/n"
  ZD_URL=$NGINX_URL run zdc login --auth "$ZD_USER:wrong"
  answer_is "$output" 401 error=1
  drain_ok
  served "ng.$D" 2026112303
}

@test "fastcgi: the processes log to lighttpd's stderr, with no sanitizer or FastCGI complaint" {
  # mod_fastcgi hands its children lighttpd's own stderr (the journal under
  # systemd); under make asan a leak or overflow in a long-lived process shows here
  local log=$T/lighttpd-fcgi/lighttpd.stderr
  grep -q 'zonedrop.cgi: .*status=200' "$log"
  ! grep -E 'Sanitizer|runtime error:|FastCGI: ' "$log" "$T/lighttpd-fcgi/error.log"
}
