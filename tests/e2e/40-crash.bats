# Crash safety (DESIGN.md): 500 zones pushed, the drain SIGKILLed mid-batch at
# points chosen by watching its progress (never by a timer), then a normal drain
# finishes the job: nothing lost, spool empty, all 500 served with the pushed serial.
load lib/servers

N=500
SERIAL=2026060101

setup_file() {
  e2e_init
  start_nsd
  write_config
  start_lighttpd
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

# start_drain_bg: zonedrop-drain in the background; its PID in $DRAIN_PID
start_drain_bg() {
  "$ZONEDROP_BIN/zonedrop-drain" -c "$ZD_CONFIG" >> "$T/crash-drains.log" 2>&1 3>&- &
  DRAIN_PID=$!
  remember drain "$DRAIN_PID"
}

running() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat")" != Z ]; }

# kill_when PID CONDITION...: poll the condition while PID runs, then SIGKILL it.
# Prints "killed" or "finished" (the drain was quicker than the condition).
kill_when() {
  local pid=$1 end=$((SECONDS + 120))
  shift
  while running "$pid" && ! "$@" && [ $SECONDS -lt $end ]; do
    sleep 0.005
  done
  if running "$pid" && kill -KILL "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    echo killed
  else
    wait "$pid" 2>/dev/null || true
    echo finished
  fi
}

new_shrank() { [ "$(spool_count new)" -lt "$1" ] || [ "$(spool_count cur)" -gt 0 ]; }
zones_written() { [ "$(find "$NSD_ZONES" -type f | wc -l)" -ge "$1" ]; }
include_written() { [ -s "$NSD_INCLUDE" ]; }

lock_free() { flock -n "$ZD_SPOOL/.lock" true; }

# drain_settled: drain until it is not 75 (the lock may be held a moment by
# what a killed drain left behind); leaves $status and $output
drain_settled() {
  local tries
  for tries in 1 2 3 4 5; do
    wait_until 30 "spool lock released" lock_free || true
    drain
    [ "$status" = 75 ] || return 0
    say "drain exited 75 (try $tries)"
  done
}

@test "crash: $N zones pushed (4 clients), all accepted into new/" {
  push_many --prefix crash --suffix kill.e2e.example --count "$N" --clients 4 --serial "$SERIAL"
  [ "$(spool_count new)" -eq "$N" ] || { echo "new/ holds $(spool_count new)"; return 1; }
  [ "$(spool_count tmp)" -eq 0 ]
}

@test "crash: drain SIGKILLed as soon as new/ shrinks, again once zone files appear, again at the include" {
  local n0 r kills=0
  n0=$(spool_count new)
  start_drain_bg
  r=$(kill_when "$DRAIN_PID" new_shrank "$n0"); say "kill 1 (new/ shrinking): $r"
  [ "$r" = killed ] && kills=$((kills + 1))
  wait_until 30 "spool lock released" lock_free || true
  start_drain_bg
  r=$(kill_when "$DRAIN_PID" zones_written 50); say "kill 2 (zone files written): $r"
  [ "$r" = killed ] && kills=$((kills + 1))
  wait_until 30 "spool lock released" lock_free || true
  start_drain_bg
  r=$(kill_when "$DRAIN_PID" include_written); say "kill 3 (NSD include written): $r"
  [ "$r" = killed ] && kills=$((kills + 1))
  say "drain killed $kills time(s); new/=$(spool_count new) cur/=$(spool_count cur)"
  [ "$kills" -ge 1 ] || skip "the drain finished before it could be killed"
}

@test "crash: the next drain exits 0 (75 tolerated while the lock is held), spool empty" {
  drain_settled
  [ "$status" -eq 0 ] || { echo "final drain exited $status: $output"; return 1; }
  [ "$(spool_count new)" -eq 0 ] || { echo "new/ still holds $(spool_count new)"; return 1; }
  [ "$(spool_count cur)" -eq 0 ] || { echo "cur/ still holds $(spool_count cur)"; return 1; }
  [ "$(spool_count bad)" -eq 0 ] || { echo "bad/ holds $(spool_names bad | head -3)"; return 1; }
}

@test "crash: all $N zones are served with the pushed serial (one dig batch)" {
  served_many --prefix crash --suffix kill.e2e.example --count "$N" --serial "$SERIAL"
}

@test "crash: a drain killed while a newer serial is being applied converges to the newer serial" {
  local r
  push_many --prefix crash --suffix kill.e2e.example --count 100 --clients 4 --serial $((SERIAL + 1))
  start_drain_bg
  r=$(kill_when "$DRAIN_PID" new_shrank 100); say "kill (new/ shrinking): $r"
  drain_settled
  [ "$status" -eq 0 ] || { echo "drain exited $status: $output"; return 1; }
  served_many --prefix crash --suffix kill.e2e.example --count 100 --serial $((SERIAL + 1))
  served_many --prefix crash --suffix kill.e2e.example --start 100 --count $((N - 100)) --serial "$SERIAL"
}
