# The operator's CLI (zonedrop(8)) and the drain's lock: check-config, push and
# delete from the command line, spool listing, passwd, retry, exit 75 when busy.
load lib/servers

setup_file() {
  e2e_init
  start_nsd
  write_config
  start_lighttpd
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

zd() { "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" "$@"; }

@test "check-config: exit 0, prints the effective config with defaults, passwords masked" {
  run zd check-config
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  grep -q "$ZD_SPOOL" <<<"$output" || { echo "spool_dir not shown:"; echo "$output"; return 1; }
  grep -q "nsd1" <<<"$output" || { echo "backend not shown:"; echo "$output"; return 1; }
  grep -q "retry" <<<"$output" || { echo "defaults (retry schedule) not shown:"; echo "$output"; return 1; }
  if grep -qF "$ZD_PASS" <<<"$output"; then echo "the password is printed in clear"; return 1; fi
}

@test "check-config: an unknown key is exit 2 with FILE:LINE" {
  local bad=$T/unknown-key.yml line
  cp "$ZD_CONFIG" "$bad"
  printf 'no_such_key: 1\n' >> "$bad"
  line=$(wc -l < "$bad")
  run "$ZONEDROP_BIN/zonedrop" -c "$bad" check-config
  [ "$status" -eq 2 ] || { echo "exit $status, wanted 2: $output"; return 1; }
  grep -qE "$bad:$line(:|[^0-9])" <<<"$output" || { echo "no $bad:$line in: $output"; return 1; }
  grep -q no_such_key <<<"$output" || { echo "the key is not named: $output"; return 1; }
}

@test "check-config: a wrong type is exit 2 with FILE:LINE" {
  local bad=$T/wrong-type.yml line
  sed 's/^  max_body: .*/  max_body: lots/' "$ZD_CONFIG" > "$bad"
  line=$(grep -n 'max_body: lots' "$bad" | cut -d: -f1)
  run "$ZONEDROP_BIN/zonedrop" -c "$bad" check-config
  [ "$status" -eq 2 ] || { echo "exit $status, wanted 2: $output"; return 1; }
  grep -qE "$bad:$line(:|[^0-9])" <<<"$output" || { echo "no $bad:$line in: $output"; return 1; }
}

@test "a program given a missing config file exits 2" {
  run "$ZONEDROP_BIN/zonedrop-drain" -c "$T/no-such.yml"
  [ "$status" -eq 2 ] || { echo "exit $status: $output"; return 1; }
}

@test "push from the CLI: one item with Source: cli, drained and served" {
  local item
  da_zone cli-push.e2e.example 2026090101 192.0.2.111 > "$BATS_TEST_TMPDIR/z"
  run zd push cli-push.e2e.example "$BATS_TEST_TMPDIR/z"
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  [ "$(spool_count new)" -eq 1 ] || { echo "new/ holds $(spool_count new)"; return 1; }
  item=$ZD_SPOOL/new/$(spool_names new)
  [ "$(item_header "$item" Source)" = cli ] || { cat "$item"; return 1; }
  [ "$(item_header "$item" Domain)" = cli-push.e2e.example ]
  drain_ok
  served cli-push.e2e.example 2026090101
}

@test "push from the CLI refuses an invalid zone (exit != 0, nothing spooled)" {
  printf '$TTL 300\nwww IN A 192.0.2.1\n' > "$BATS_TEST_TMPDIR/nosoa"
  run zd push cli-bad.e2e.example "$BATS_TEST_TMPDIR/nosoa"
  [ "$status" -ne 0 ] || { echo "accepted a zone without SOA: $output"; return 1; }
  run zd push ../../etc/passwd "$BATS_TEST_TMPDIR/nosoa"
  [ "$status" -ne 0 ]
  [ "$(spool_count new)" -eq 0 ] && [ "$(spool_count tmp)" -eq 0 ]
}

@test "spool: lists the items waiting in new/" {
  da_zone cli-spool.e2e.example 2026090102 > "$BATS_TEST_TMPDIR/z"
  push_ok cli-spool.e2e.example "$BATS_TEST_TMPDIR/z"
  run zd spool
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  grep -q "$(spool_names new)" <<<"$output" || grep -q cli-spool.e2e.example <<<"$output" \
    || { echo "the waiting item is not listed:"; echo "$output"; return 1; }
  drain_ok
}

@test "delete from the CLI: the zone is gone after the drain" {
  run zd delete cli-push.e2e.example
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  [ "$(item_header "$ZD_SPOOL/new/$(spool_names new)" Action)" = delete ]
  drain_ok
  absent cli-push.e2e.example
  run zdc exists cli-push.e2e.example
  answer_is "$output" 200 error=0 exists=0
}

@test "drain: exit 75 while another process holds the spool lock, 0 once it is free" {
  local pid child
  flock "$ZD_SPOOL/.lock" sleep 120 3>&- &
  pid=$!
  remember flock "$pid"
  wait_until 10 "flock to hold $ZD_SPOOL/.lock" bash -c "! flock -n '$ZD_SPOOL/.lock' true"
  run timeout 60 "$ZONEDROP_BIN/zonedrop-drain" -c "$ZD_CONFIG"
  # end flock's own child (the sleep holding the lock); flock then exits by itself
  child=$(ps -o pid= --ppid "$pid" | tr -d ' ')
  [ -z "$child" ] || kill "$child"
  wait "$pid" 2>/dev/null || true
  wait_until 10 "the lock to be free" flock -n "$ZD_SPOOL/.lock" true
  [ "$status" -eq 75 ] || { echo "drain exited $status with the lock held: $output"; return 1; }
  drain_ok
}

@test "passwd: prints a crypt(3) hash that works as password_hash" {
  local hash user=hashed-da pw=Correct-Horse-9
  run bash -c "printf '%s\n' '$pw' | '$ZONEDROP_BIN/zonedrop' -c '$ZD_CONFIG' passwd"
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  hash=$(grep -oE '\$(6|5|y|2b|gy)\$[^[:space:]"]+' <<<"$output" | tail -1)
  [ -n "$hash" ] || { echo "no crypt hash in: $output"; return 1; }
  cp "$ZD_CONFIG" "$T/plain.yml"
  python3 - "$ZD_CONFIG" "$user" "$hash" <<'PY'
import sys
path, user, h = sys.argv[1:]
s = open(path).read()
s = s.replace("  users:\n", '  users:\n    - name: %s\n      password_hash: "%s"\n' % (user, h), 1)
open(path, "w").write(s)
PY
  run zdc login --auth "$user:$pw"
  local ok=$output
  run zdc login --auth "$user:wrong-$pw"
  local refused=$output
  cp "$T/plain.yml" "$ZD_CONFIG"
  answer_is "$ok" 200 error=0
  answer_is "$refused" 401 error=1
}

@test "retry: exits 0 and the drain after it is clean" {
  run zd retry
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  drain_ok
}

@test "every program answers -h with exit 0" {
  local p
  for p in zonedrop zonedrop-drain; do
    run "$ZONEDROP_BIN/$p" -h
    [ "$status" -eq 0 ] || { echo "$p -h exited $status: $output"; return 1; }
  done
}
