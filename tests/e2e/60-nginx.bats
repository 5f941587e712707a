# The same DirectAdmin flow through nginx + fcgiwrap, using examples/nginx.conf
# (its listen, fastcgi_pass, SCRIPT_FILENAME and ZONEDROP_CONFIG lines pointed at
# this test's port, socket, bin/zonedrop.cgi and zonedrop.yml). fcgiwrap passes
# the CGI no environment of its own: ZONEDROP_CONFIG must come as a fastcgi_param.
load lib/servers

D=via-nginx.e2e.example

setup_file() {
  e2e_init
  start_nsd
  write_config
  start_nginx_fcgiwrap "${ZD_NGINX_EXAMPLE:-$REPO/examples/nginx.conf}"
  ZD_URL=$NGINX_URL
  export ZD_URL
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

@test "nginx: examples/nginx.conf passes ZONEDROP_CONFIG as a fastcgi_param" {
  grep -qE 'fastcgi_param[[:space:]]+ZONEDROP_CONFIG' "${ZD_NGINX_EXAMPLE:-$REPO/examples/nginx.conf}"
}

@test "nginx: login test GET and POST answer 200 error=0&text=Login OK" {
  run zdc login
  answer_is "$output" 200 error=0 "text=Login OK"
  run zdc login --post
  answer_is "$output" 200 error=0 "text=Login OK"
}

@test "nginx: no or wrong credentials give 401 error=1" {
  run zdc login --no-auth
  answer_is "$output" 401 error=1
  run zdc login --auth "$ZD_USER:wrong"
  answer_is "$output" 401 error=1
}

@test "nginx: exists=0, push spools one item, drain, NSD serves it, exists=1" {
  local item
  run zdc exists "$D"
  answer_is "$output" 200 error=0 exists=0
  da_zone "$D" 2026080101 192.0.2.101 > "$BATS_TEST_TMPDIR/z"
  run zdc push "$D" "$BATS_TEST_TMPDIR/z" --named-reload
  answer_is "$output" 200 error=0
  [ "$(spool_count new)" -eq 1 ] || { echo "new/ holds $(spool_count new)"; return 1; }
  item=$ZD_SPOOL/new/$(spool_names new)
  [ "$(item_header "$item" Domain)" = "$D" ]
  [ "$(item_header "$item" Client-Ip)" = 127.0.0.1 ]
  drain_ok
  served "$D" 2026080101
  expect_answer "www.$D" A 192.0.2.101
  run zdc exists "$D"
  answer_is "$output" 200 error=0 exists=1
}

@test "nginx: a change is served after the drain" {
  da_zone "$D" 2026080102 192.0.2.102 > "$BATS_TEST_TMPDIR/z"
  push_ok "$D" "$BATS_TEST_TMPDIR/z"
  drain_ok
  served "$D" 2026080102
  expect_answer "www.$D" A 192.0.2.102
}

@test "nginx: DirectAdmin's delete (body, no query, no Content-Type) removes the zone" {
  run zdc delete "$D"
  answer_is "$output" 200 error=0
  drain_ok
  absent "$D"
  run zdc exists "$D"
  answer_is "$output" 200 error=0 exists=0
}

@test "nginx: a hostile domain is refused with error=1 and nothing spooled" {
  run zdc cases "$FIXTURES/bad/001-domain-relative-traversal.case" "$FIXTURES/bad/006-domain-newline-injection.case" \
    "$FIXTURES/bad/080-delete-one-bad-of-two.case" --spool "$ZD_SPOOL"
  echo "$output"
  [ "$status" -eq 0 ]
}
