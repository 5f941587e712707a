# zonedrop-reconcile against fake DirectAdmin servers (tests/e2e/lib/fakeda.py):
# orphans are found and deleted only where a listing is complete (JSON pages,
# legacy list[]=, one per line, session login); every failure mode deletes
# nothing; dry run deletes nothing; max_deletes holds; ownership moves with a push.
load lib/servers
load lib/reconcile

A=(a01 a02 a03 a04 a05 a06 a07 a08 a09 a10 a11 a12)

setup_file() {
  e2e_init
  start_nsd
  write_config
  start_fakeda json json
  start_fakeda legacy legacy
  start_fakeda evo evo
  start_fakeda lines lines
  hold da1.e2e.example "${DA1[@]}"
  hold da2.e2e.example b1.da2-e2e.example b2.da2-e2e.example b3.da2-e2e.example b4.da2-e2e.example
  hold da3.e2e.example c1.da3-e2e.example c2.da3-e2e.example c3.da3-e2e.example c4.da3-e2e.example
  hold da4.e2e.example d1.da4-e2e.example d2.da4-e2e.example d3.da4-e2e.example d4.da4-e2e.example
  drain_ok
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

# every zone of da1 listed but the ones given
list_da1_without() {
  local d skip out=()
  for d in "${DA1[@]}"; do
    for skip in "$@"; do [ "$d" = "$skip" ] && continue 2; done
    out+=("$d")
  done
  # a name zonedrop does not hold and one it could never hold: both harmless
  fakeda_list json "${out[@]}" other.example UPPER.Example.ORG. "bad name"
}

DA1=()
for n in "${A[@]}"; do DA1+=("$n.da1-e2e.example"); done

@test "dry run (the default): orphans reported, exit 0, nothing spooled" {
  list_da1_without a12.da1-e2e.example
  reconcile_config true 50% "$(da_entry json da1.e2e.example)"
  reconcile -O
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  grep -qP '^orphan\tda1\.e2e\.example\ta12\.da1-e2e\.example\tdry-run$' <<<"$output" \
    || { echo "orphan not reported: $output"; return 1; }
  [ "$(grep -c '^orphan' <<<"$output")" -eq 1 ] || { echo "wrong orphans: $output"; return 1; }
  [ "$(spool_count new)" -eq 0 ] || { echo "something was spooled in a dry run"; spool_names new; return 1; }
  # the JSON listing was walked page by page (12 names, ipp 5: pages 1..3)
  for p in 1 2 3; do grep -q "page=$p&ipp=5" "$T/da/json.log" || { echo "page $p not asked"; return 1; }; done
}

@test "every unusable listing deletes nothing and exits 1" {
  list_da1_without a12.da1-e2e.example
  reconcile_config false 50% "$(da_entry json da1.e2e.example)"
  local mode
  for mode in down html 500 garbage truncated empty redirect page-500 pages-change rows-lie; do
    fakeda_fail json "$mode"
    reconcile -O -t 5
    [ "$status" -eq 1 ] || { echo "mode $mode: exit $status, wanted 1: $output"; return 1; }
    grep -qE 'listing (unusable|is empty)' <<<"$output" || { echo "mode $mode: no warning: $output"; return 1; }
    if grep -q '^orphan' <<<"$output"; then echo "mode $mode: orphans reported: $output"; return 1; fi
    [ "$(spool_count new)" -eq 0 ] || { echo "mode $mode: something was spooled"; return 1; }
  done
  fakeda_fail json none
}

@test "a server that hangs is given up after the request timeout, nothing deleted" {
  list_da1_without a12.da1-e2e.example
  reconcile_config false 50% "$(da_entry json da1.e2e.example)"
  fakeda_fail json hang
  reconcile -O -t 2
  fakeda_fail json none
  [ "$status" -eq 1 ] || { echo "exit $status: $output"; return 1; }
  grep -q 'listing unusable' <<<"$output" || { echo "$output"; return 1; }
  [ "$(spool_count new)" -eq 0 ]
}

@test "a server nobody listens on is skipped, exit 1" {
  local port
  port=$(free_ports 1)
  reconcile_config false 50% "    - url: http://127.0.0.1:$port
      user: admin
      password_file: $T/da/password
      hostname: da1.e2e.example"
  reconcile -O -t 5
  [ "$status" -eq 1 ] || { echo "exit $status: $output"; return 1; }
  [ "$(spool_count new)" -eq 0 ]
}

@test "more orphans than max_deletes: none deleted, reported, exit 1" {
  list_da1_without a10.da1-e2e.example a11.da1-e2e.example a12.da1-e2e.example
  reconcile_config false 2 "$(da_entry json da1.e2e.example)"
  reconcile -O
  [ "$status" -eq 1 ] || { echo "exit $status: $output"; return 1; }
  [ "$(grep -cP '^orphan\tda1\.e2e\.example\ta1[012]\.da1-e2e\.example\tover-cap$' <<<"$output")" -eq 3 ] \
    || { echo "$output"; return 1; }
  [ "$(spool_count new)" -eq 0 ] || { echo "something was spooled over the cap"; return 1; }
  # 5% of 12 zones is 0: the percentage cap holds as well
  reconcile_config false 5% "$(da_entry json da1.e2e.example)"
  list_da1_without a12.da1-e2e.example
  reconcile -O
  [ "$status" -eq 1 ] || { echo "exit $status: $output"; return 1; }
  grep -q over-cap <<<"$output"
  [ "$(spool_count new)" -eq 0 ]
}

@test "a complete JSON listing: orphans deleted through the spool, the drain removes them" {
  list_da1_without a11.da1-e2e.example a12.da1-e2e.example
  reconcile_config true 50% "$(da_entry json da1.e2e.example)"
  reconcile -O -y
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  [ "$(grep -c $'^orphan\t.*\tdeleted$' <<<"$output")" -eq 2 ] || { echo "$output"; return 1; }
  [ "$(spool_deletes)" = "a11.da1-e2e.example reconcile da1.e2e.example
a12.da1-e2e.example reconcile da1.e2e.example" ] || { echo "spool: $(spool_deletes)"; return 1; }
  grep -q 'reconcile done: servers=1 skipped=0 capped=0 held=12 listed=12 orphans=2 deleted=2' <<<"$output" \
    || { echo "no summary: $output"; return 1; }
  drain_ok
  absent a11.da1-e2e.example
  absent a12.da1-e2e.example
  served a10.da1-e2e.example 2024010101
  ! held_present a11.da1-e2e.example
  # the next run finds nothing left to do
  reconcile -O -y
  [ "$status" -eq 0 ] && ! grep -q '^orphan' <<<"$output"
}

@test "legacy list[]= and one-per-line listings, session login (Evolution)" {
  fakeda_list legacy b1.da2-e2e.example b2.da2-e2e.example b3.da2-e2e.example
  fakeda_list evo c1.da3-e2e.example c2.da3-e2e.example c3.da3-e2e.example
  fakeda_list lines d2.da4-e2e.example d3.da4-e2e.example d4.da4-e2e.example
  reconcile_config false 30% "$(da_entry legacy da2.e2e.example)" "$(da_entry evo da3.e2e.example)" \
    "$(da_entry lines da4.e2e.example)"
  reconcile -O
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  [ "$(spool_deletes)" = "b4.da2-e2e.example reconcile da2.e2e.example
c4.da3-e2e.example reconcile da3.e2e.example
d1.da4-e2e.example reconcile da4.e2e.example" ] || { echo "spool: $(spool_deletes); $output"; return 1; }
  grep -q 'server=da3.e2e.example listing format=json pages=1 session=yes' <<<"$output" || { echo "$output"; return 1; }
  grep -q '"path": "/CMD_LOGIN"' "$T/da/evo.log" || { echo "no login"; return 1; }
  grep '"path": "/CMD_DNS_ADMIN"' "$T/da/evo.log" | grep -q '"cookie": true, "status": 200' \
    || { echo "no listing with the session cookie"; cat "$T/da/evo.log"; return 1; }
  drain_ok
  absent b4.da2-e2e.example
  absent c4.da3-e2e.example
  absent d1.da4-e2e.example
  served b1.da2-e2e.example 2024010101
}

@test "ownership moves with a push from another DirectAdmin: logged, zones --owner, no orphan of the old owner" {
  local z=a05.da1-e2e.example
  HOLD_SERIAL=2024010102 hold da2.e2e.example "$z"
  drain_ok
  grep -E "\[$z\.\].*owner hostname=da1\.e2e\.example -> hostname=da2\.e2e\.example" <<<"$output" \
    || { echo "transfer not logged: $output"; return 1; }
  zd zones --owner da2.e2e.example | cut -f1 | grep -qxF "$z" || { echo "not owned by da2"; return 1; }
  ! zd zones --owner da1.e2e.example | cut -f1 | grep -qxF "$z"
  # da1 no longer lists it: not da1's orphan any more; da2 lists it: not da2's either
  list_da1_without a05.da1-e2e.example a11.da1-e2e.example a12.da1-e2e.example
  fakeda_list legacy b1.da2-e2e.example b2.da2-e2e.example b3.da2-e2e.example "$z"
  fakeda_fail legacy none
  reconcile_config false 50% "$(da_entry json da1.e2e.example)" "$(da_entry legacy da2.e2e.example)"
  reconcile -O
  [ "$status" -eq 0 ] || { echo "exit $status: $output"; return 1; }
  if grep -q '^orphan' <<<"$output"; then echo "unexpected orphans: $output"; return 1; fi
  served "$z" 2024010102
}

@test "usage errors exit 2; -h exits 0" {
  run "$ZONEDROP_BIN/zonedrop-reconcile" -h
  [ "$status" -eq 0 ] && grep -q usage <<<"$output"
  run "$ZONEDROP_BIN/zonedrop-reconcile" -c "$ZD_CONFIG" -O -H
  [ "$status" -eq 2 ]
  run "$ZONEDROP_BIN/zonedrop-reconcile" -c "$T/nope.yml"
  [ "$status" -eq 2 ]
  run "$ZONEDROP_BIN/zonedrop-reconcile" -c "$ZD_CONFIG" -s no-such-server -O
  [ "$status" -eq 2 ]
}
