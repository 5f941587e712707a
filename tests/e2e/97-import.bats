# zonedrop import-directdnsonly: a directdnsonly 2.x app.yml and SQLite datastore made
# here with the schema directdnsonly creates (shared/DIRECTDNSONLY-IMPORT.md section 3)
# -> import -> drain -> NSD serves the same zones; the generated config passes
# `zonedrop check-config`; rows zonedrop must refuse are reported and skipped.
bats_require_minimum_version 1.5.0
load lib/servers

setup_file() {
  e2e_init
  start_nsd
  write_config
  D=$T/ddo
  mkdir -p "$D/config" "$D/data" "$D/zones" "$D/etc"
  export D
  # directdnsonly's own zone files: where a row without zone_data finds its text
  cat > "$D/zones/fallback.ddo.example.db" <<'EOF'
$TTL 300
@ IN SOA ns1.fallback.ddo.example. hostmaster.fallback.ddo.example. 2026030303 3600 600 86400 300
@ IN NS ns1.fallback.ddo.example.
ns1 IN A 192.0.2.33
www IN A 192.0.2.34
EOF
  cat > "$D/config/app.yml" <<EOF
log_level: INFO
timezone: Pacific/Auckland
queue_location: ./data/queues
app:
  auth_username: directdnsonly
  auth_password: imported-secret
  listen_port: 2222
  ssl_enable: false
  proxy_support: true
datastore:
  type: sqlite
  db_location: ./data/directdnsonly.db
dns:
  backends:
    nsd:
      type: nsd
      enabled: true
      zones_dir: $D/zones
      nsd_conf: $D/etc/zones.conf
reconciliation:
  enabled: true
  dry_run: false
  directadmin_servers:
    - hostname: da1.e2e.example
      port: 2222
      username: admin
      password: da-secret
      ssl: true
peer_sync:
  enabled: false
EOF
  # SQLAlchemy's create_all of the 2.x models, then _migrate()'s ALTER TABLEs
  "$PY" - "$D/data/directdnsonly.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
CREATE TABLE domains (id INTEGER NOT NULL, domain VARCHAR(255), hostname VARCHAR(255),
  username VARCHAR(255), PRIMARY KEY (id), UNIQUE (domain));
CREATE TABLE keys (id INTEGER NOT NULL, "key" VARCHAR(255), name VARCHAR(255),
  expires DATETIME, service VARCHAR(255), PRIMARY KEY (id), UNIQUE ("key"));
ALTER TABLE domains ADD COLUMN zone_data TEXT;
ALTER TABLE domains ADD COLUMN zone_updated_at DATETIME;
""")
def zone(d, serial, ip):
    # as directdnsonly stored it: $ORIGIN and $TTL prepended to DirectAdmin's text
    return (f"$ORIGIN {d}.\n$TTL 300\n{d}.\t3600\tIN\tSOA\tns1.{d}. hostmaster.{d}. {serial} 3600 600 86400 300\n"
            f"{d}.\t3600\tIN\tNS\tns1.{d}.\nns1\t3600\tIN\tA\t{ip}\nwww\t3600\tIN\tA\t{ip}\n"
            f"{d}.\t3600\tIN\tMX\t10 mail.{d}.\nmail\t3600\tIN\tA\t{ip}\n")
rows = [
  (1, "one.ddo.example", "da1.e2e.example", "alice", zone("one.ddo.example", 2026010101, "192.0.2.11"), "2026-01-01 10:00:00.123456"),
  (2, "two.ddo.example", "da1.e2e.example", "bob", zone("two.ddo.example", 2026020202, "192.0.2.22").replace("\n", "\r\n"), "2026-02-02 20:20:20"),
  (3, "fallback.ddo.example", "", "", None, None),
  (4, "Upper.DDO.example", "da1.e2e.example", "carol", zone("upper.ddo.example", 2026040404, "192.0.2.44"), "2026-04-04 04:04:04"),
  (5, "bad_name.ddo.example", "", "", zone("bad_name.ddo.example", 1, "192.0.2.55"), None),
  (6, "nothing.ddo.example", "", "", None, None),
  (7, "outside.ddo.example", "", "", "$TTL 300\n@ IN SOA ns1.x. h.x. 1 1 1 1 1\nevil.other.example. IN A 192.0.2.66\n", None),
]
db.executemany("INSERT INTO domains (id, domain, hostname, username, zone_data, zone_updated_at) VALUES (?,?,?,?,?,?)", rows)
db.commit()
EOF
  cp "$D/data/directdnsonly.db" "$T/ddo-before.db"
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

zd() { "$ZONEDROP_BIN/zonedrop" "$@"; }

@test "import: the config alone, printed on stdout, no password in it" {
  run --separate-stderr zd import-directdnsonly --no-zones --secrets-dir "$T/sec-stdout" "$D/config/app.yml"
  # the secrets directory does not exist: nothing may be printed as if it had worked
  [ "$status" -ne 0 ]
  mkdir -m 700 "$T/sec-stdout"
  run --separate-stderr zd import-directdnsonly --no-zones --secrets-dir "$T/sec-stdout" "$D/config/app.yml"
  [ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
  [[ $output == *"receiver:"* ]] && [[ $output == *'password_hash: "$6$'* ]]
  [[ $output != *imported-secret* ]] && [[ $output != *da-secret* ]] && [[ $stderr != *imported-secret* ]]
  # what cannot be converted is said, key by key
  [[ $stderr == *"timezone"* ]] && [[ $stderr == *"queue_location"* ]] && [[ $stderr == *"proxy_support"* ]]
  [[ $stderr == *"reconciliation.dry_run was false"* ]] && [[ $stderr == *"listen 2222"* ]]
  [ "$(cat "$T/sec-stdout/da-da1-e2e-example.pass")" = da-secret ]
  [ "$(stat -c %a "$T/sec-stdout/da-da1-e2e-example.pass")" = 600 ]
}

@test "import: --output writes the config and the zones go to the spool; nothing overwritten" {
  local out=$T/generated/zonedrop.yml
  mkdir -p "$T/generated"
  run --separate-stderr zd -c "$ZD_CONFIG" import-directdnsonly --output "$out" --verify "127.0.0.1@$DNS_PORT" "$D/config/app.yml"
  echo "$stderr" > "$T/import.stderr"
  # two rows zonedrop refuses, one without text: exit 1, the rest spooled
  [ "$status" -eq 1 ] || { echo "exit $status"; echo "$stderr"; return 1; }
  echo "$output" > "$T/import.report"
  grep -qP '^one\.ddo\.example\timported\t' "$T/import.report"
  grep -qP '^two\.ddo\.example\timported\t' "$T/import.report"
  grep -qP '^fallback\.ddo\.example\timported\t' "$T/import.report"
  grep -qP '^upper\.ddo\.example\timported\titem=\S+ lower-cased' "$T/import.report"
  grep -qP '^bad_name\.ddo\.example\tskipped\t.*forbidden character' "$T/import.report"
  grep -qP '^nothing\.ddo\.example\tskipped\tno zone text' "$T/import.report"
  grep -qP '^outside\.ddo\.example\tskipped\tzone refused' "$T/import.report"
  [ "$(spool_count new)" -eq 4 ] || { spool_names new; return 1; }
  # the config: mode 0640, its password files beside it, 0600
  [ "$(stat -c %a "$out")" = 640 ]
  [ "$(stat -c %a "$T/generated/da-da1-e2e-example.pass")" = 600 ]
  grep -q "password_file: \"$T/generated/da-da1-e2e-example.pass\"" "$out"
  # never overwritten
  cp "$out" "$T/generated.copy"
  run zd -c "$ZD_CONFIG" import-directdnsonly --output "$out" --no-zones "$D/config/app.yml"
  [ "$status" -eq 2 ] && [[ $output == *"never overwritten"* ]]
  cmp "$out" "$T/generated.copy"
  # the datastore is read, never written
  cmp "$D/data/directdnsonly.db" "$T/ddo-before.db"
}

@test "import: spool items carry the owner, Source: cli and directdnsonly's change time" {
  local f one two
  for f in "$ZD_SPOOL"/new/*; do
    case $(item_header "$f" Domain) in
      one.ddo.example) one=$f ;;
      two.ddo.example) two=$f ;;
    esac
  done
  [ -n "$one" ] && [ -n "$two" ]
  [ "$(item_header "$one" Action)" = rawsave ]
  [ "$(item_header "$one" Source)" = cli ]
  [ "$(item_header "$one" Hostname)" = da1.e2e.example ]
  [ "$(item_header "$one" Username)" = alice ]
  [ "$(item_header "$one" Changed)" = 2026-01-01T10:00:00.123456Z ]
  [ "$(item_header "$two" Changed)" = 2026-02-02T20:20:20.000000Z ]
  # CRLF from the datastore arrives as LF
  ! grep -q $'\r' "$two"
}

@test "import: the drain applies them and NSD serves the same zones" {
  drain_ok
  served one.ddo.example 2026010101
  served two.ddo.example 2026020202
  served fallback.ddo.example 2026030303
  served upper.ddo.example 2026040404
  expect_answer www.one.ddo.example A 192.0.2.11
  expect_answer two.ddo.example MX "10 mail.two.ddo.example."
  expect_answer www.fallback.ddo.example A 192.0.2.34
  # the store keeps the owner and the original change time
  run zd -c "$ZD_CONFIG" show one.ddo.example
  [ "$status" -eq 0 ]
  [[ $output == *alice* ]] && [[ $output == *da1.e2e.example* ]] && [[ $output == *2026-01-01T10:00:00* ]]
}

@test "import: the generated config passes zonedrop check-config" {
  run zd -c "$T/generated/zonedrop.yml" check-config
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  [[ $output == *"dry_run: true"* ]]
  [[ $output == *"parent_exists: 3"* ]]
}

@test "import: refusals and usage: changeme, a MySQL datastore, no arguments" {
  sed 's/auth_password: imported-secret/auth_password: changeme/' "$D/config/app.yml" > "$T/changeme.yml"
  run zd -c "$ZD_CONFIG" import-directdnsonly --no-zones "$T/changeme.yml"
  [ "$status" -eq 2 ] && [[ $output == *changeme* ]] && [[ $output == *"zonedrop passwd"* ]]
  sed 's/type: sqlite/type: mysql/' "$D/config/app.yml" > "$T/mysql.yml"
  run zd -c "$ZD_CONFIG" import-directdnsonly --no-config "$T/mysql.yml"
  [ "$status" -eq 2 ] && [[ $output == *"only a SQLite datastore"* ]]
  run zd import-directdnsonly
  [ "$status" -eq 2 ]
  run zd -c "$ZD_CONFIG" import-directdnsonly --no-config "$D/config/app.yml" "$T/missing.db"
  [ "$status" -eq 2 ]
  [ ! -e "$T/missing.db" ]
  # the DADNS_ environment (documented and dotted spellings) through --env-file
  printf 'DADNS_APP_AUTH_PASSWORD=from-env-file\n' > "$T/env"
  run --separate-stderr zd import-directdnsonly --no-zones --env-file "$T/env" --no-such-option "$T/changeme.yml"
  [ "$status" -eq 2 ]
  run --separate-stderr zd import-directdnsonly --no-zones --secrets-dir "$T/sec-stdout" --env-file "$T/env" "$T/changeme.yml"
  [ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
  [[ $stderr == *"DADNS_APP_AUTH_PASSWORD"* ]]
}
