# reconcile.bash -- helpers for zonedrop-reconcile and zonedrop verify tests:
# fake DirectAdmin servers (lib/fakeda.py), a zonedrop.yml with a reconcile:
# block, zones pushed through the CLI with a DirectAdmin hostname.
# Load after lib/servers.
# shellcheck shell=bash

zd() { "$ZONEDROP_BIN/zonedrop" -c "$ZD_CONFIG" "$@"; }

# start_fakeda NAME MODE: a fake DirectAdmin server; its domain list is
# $T/da/NAME.domains, its failure mode $T/da/NAME.control, its request log
# $T/da/NAME.log; sets FAKEDA_PORT_<NAME>
start_fakeda() {
  local name=$1 mode=$2 d=$T/da
  mkdir -p "$d"
  [ -f "$d/password" ] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(12))' > "$d/password"
  : > "$d/$name.domains"
  echo none > "$d/$name.control"
  rm -f "$d/$name.port"
  "$PY" "$E2E_LIB/fakeda.py" --domains "$d/$name.domains" --port-file "$d/$name.port" \
    --password-file "$d/password" --mode "$mode" --control "$d/$name.control" \
    --log "$d/$name.log" --max-ipp 5 --work-dir "$T" > "$d/$name.stderr" 2>&1 3>&- &
  remember "fakeda-$name" $!
  wait_until 15 "fakeda $name" test -s "$d/$name.port" || { cat "$d/$name.stderr" >&2; return 1; }
  eval "FAKEDA_PORT_$name=\$(cat \"\$d/\$name.port\")"
}

fakeda_port() { cat "$T/da/$1.port"; }
fakeda_fail() { echo "$2" > "$T/da/$1.control"; }      # fakeda_fail NAME MODE
fakeda_list() { local n=$1; shift; printf '%s\n' "$@" > "$T/da/$n.domains"; }   # NAME DOMAIN...

# da_entry NAME HOSTNAME [IPP]: one reconcile.directadmin entry (YAML)
da_entry() {
  cat <<EOF
    - url: http://127.0.0.1:$(fakeda_port "$1")
      user: admin
      password_file: $T/da/password
      verify_tls: true
      hostname: $2
      ipp: ${3:-5}
EOF
}

# reconcile_config DRY_RUN MAX_DELETES ENTRIES...: $ZD_CONFIG with a reconcile block
reconcile_config() {
  local dry=$1 max=$2
  shift 2
  write_config 3 1048576 "$(printf 'reconcile:\n  dry_run: %s\n  max_deletes: %s\n  directadmin:\n' "$dry" "$max"; printf '%s\n' "$@")"
}

# hold HOSTNAME DOMAIN...: push each zone from the CLI as owned by HOSTNAME
hold() {
  local host=$1 d
  shift
  for d in "$@"; do
    da_zone "$d" "${HOLD_SERIAL:-2024010101}" > "$T/$d.zone" || return 1
    zd push "$d" "$T/$d.zone" --hostname "$host" --username alice 2>/dev/null || { echo "push $d failed"; return 1; }
  done
}

# reconcile [ARGS]: one zonedrop-reconcile run ($status, $output as bats run)
# shellcheck disable=SC2154  # status and output are set by bats' run
reconcile() {
  run timeout 300 "$ZONEDROP_BIN/zonedrop-reconcile" -c "$ZD_CONFIG" "$@"
  { echo "== reconcile $* (exit $status): ${BATS_TEST_DESCRIPTION:-setup}"; echo "$output"; } >> "$T/reconcile.log"
}

# held_present DOMAIN: 0 when the state holds DOMAIN as present
held_present() { zd zones 2>/dev/null | cut -f1 | grep -qxF "$1"; }

# spool_deletes: "domain source hostname" of every delete item waiting in new/
spool_deletes() {
  local f
  for f in "$ZD_SPOOL"/new/*; do
    [ -f "$f" ] || continue
    [ "$(item_header "$f" Action)" = delete ] || continue
    echo "$(item_header "$f" Domain) $(item_header "$f" Source) $(item_header "$f" Hostname)"
  done | sort
}
