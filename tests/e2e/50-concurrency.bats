# Concurrency: 8 DirectAdmin-like clients pushing 100 zones each at the same time
# through lighttpd: every push answered error=0, exactly 800 items in new/ (unique
# names, nothing lost or doubled), tmp/ empty; one drain serves all 800.
load lib/servers

SERIAL=2026070101

setup_file() {
  e2e_init
  start_nsd
  write_config
  start_lighttpd
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

@test "concurrency: 8 clients x 100 pushes all answered error=0, 800 items in new/, tmp/ empty" {
  run push_many --prefix conc --suffix many.e2e.example --count 800 --clients 8 --serial "$SERIAL"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(spool_count new)" -eq 800 ] || { echo "new/ holds $(spool_count new), not 800"; return 1; }
  [ "$(spool_count tmp)" -eq 0 ] || { echo "tmp/ holds leftovers: $(spool_names tmp | head -3)"; return 1; }
}

@test "concurrency: the 800 items name 800 different zones, each item complete" {
  local domains
  domains=$(grep -h '^Domain: ' "$ZD_SPOOL"/new/* | sort -u | wc -l)
  [ "$domains" -eq 800 ] || { echo "$domains distinct domains"; return 1; }
  # every item ends with the pushed zone's last record (no truncated bodies)
  [ "$(grep -l 'zone number' "$ZD_SPOOL"/new/* | wc -l)" -eq 800 ]
}

@test "concurrency: one drain applies all 800 zones (exit 0), spool empty" {
  drain_ok
  [ "$(spool_count new)" -eq 0 ] && [ "$(spool_count cur)" -eq 0 ]
  served_many --prefix conc --suffix many.e2e.example --count 800 --serial "$SERIAL"
}

@test "concurrency: pushes while a drain runs are kept for the next drain" {
  local pid
  push_many --prefix conc --suffix many.e2e.example --count 200 --clients 4 --serial $((SERIAL + 1))
  "$ZONEDROP_BIN/zonedrop-drain" -c "$ZD_CONFIG" > "$T/bg-drain.log" 2>&1 3>&- &
  pid=$!
  push_many --prefix conc --suffix many.e2e.example --start 200 --count 200 --clients 4 --serial $((SERIAL + 2))
  wait "$pid" || { echo "background drain exited $?:"; cat "$T/bg-drain.log"; return 1; }
  drain_ok
  served_many --prefix conc --suffix many.e2e.example --count 200 --serial $((SERIAL + 1))
  served_many --prefix conc --suffix many.e2e.example --start 200 --count 200 --serial $((SERIAL + 2))
  served_many --prefix conc --suffix many.e2e.example --start 400 --count 400 --serial "$SERIAL"
}
