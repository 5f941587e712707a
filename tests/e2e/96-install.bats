# make install / make uninstall: the file list under DESTDIR, paths substituted, an
# existing config never overwritten; then the whole flow from an installed tree (the
# installed CGI behind lighttpd, the installed drain, NSD serving the pushed zone); then
# uninstall leaves nothing but the (changed) config.
load lib/servers

setup_file() {
  e2e_init
  start_nsd
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

inst() { make -s -C "$REPO" OUT="$ZONEDROP_BIN" "$@"; }

# the files make install must write, relative to the tree, for PREFIX=/usr/local
expected_files() {
  local p m u
  for p in "$ZONEDROP_BIN"/*; do
    p=${p##*/}
    [ -x "$ZONEDROP_BIN/$p" ] && [ -f "$ZONEDROP_BIN/$p" ] || continue
    if [ "$p" = zonedrop.cgi ]; then echo usr/local/libexec/zonedrop/zonedrop.cgi
    else
      echo "usr/local/sbin/$p"
      for u in "$REPO"/systemd/"$p".service "$REPO"/systemd/"$p".timer "$REPO"/systemd/"$p".path; do
        [ -f "$u" ] && echo "lib/systemd/system/${u##*/}"
      done
    fi
  done
  for m in "$REPO"/man/*.[0-9]; do echo "usr/local/share/man/man${m##*.}/${m##*/}"; done
  echo usr/lib/tmpfiles.d/zonedrop.conf
  for p in zonedrop.yml nginx.conf lighttpd.conf lighttpd-fastcgi.conf; do echo "usr/local/share/doc/zonedrop/examples/$p"; done
  echo etc/zonedrop/zonedrop.yml
}

@test "install: DESTDIR gets exactly the programs, CGI, man pages, units, tmpfiles, examples, config" {
  local d=$T/destdir
  inst install-only DESTDIR="$d" > "$T/install.log" 2>&1 || { cat "$T/install.log"; return 1; }
  diff <(cd "$d" && find . -type f -printf '%P\n' | sort) <(expected_files | sort) \
    || { echo "installed files differ from the expected list (< installed, > expected)"; return 1; }
  [ "$(stat -c %a "$d/etc/zonedrop/zonedrop.yml")" = 640 ]
  [ "$(stat -c %a "$d/usr/local/libexec/zonedrop/zonedrop.cgi")" = 755 ]
  # paths name PREFIX, never DESTDIR
  ! grep -rq "$d" "$d/lib" "$d/usr/local/share/doc" "$d/etc"
  grep -q '^ExecStart=/usr/local/sbin/zonedrop-drain -c /etc/zonedrop/zonedrop.yml$' \
    "$d/lib/systemd/system/zonedrop-drain.service"
  grep -q '/usr/local/libexec/zonedrop/zonedrop.cgi' "$d/usr/local/share/doc/zonedrop/examples/lighttpd.conf"
}

@test "install: other PREFIX and SYSCONFDIR are substituted into units and examples" {
  local d=$T/destdir2
  inst install-only DESTDIR="$d" PREFIX=/opt/zd SYSCONFDIR=/etc/opt/zd > /dev/null 2>&1
  grep -q '^ExecStart=/opt/zd/sbin/zonedrop-drain -c /etc/opt/zd/zonedrop/zonedrop.yml$' \
    "$d/lib/systemd/system/zonedrop-drain.service"
  grep -q 'fastcgi_param SCRIPT_FILENAME /opt/zd/libexec/zonedrop/zonedrop.cgi;' "$d/opt/zd/share/doc/zonedrop/examples/nginx.conf"
  grep -q '"ZONEDROP_CONFIG" => "/etc/opt/zd/zonedrop/zonedrop.yml"' "$d/opt/zd/share/doc/zonedrop/examples/lighttpd.conf"
  [ -f "$d/etc/opt/zd/zonedrop/zonedrop.yml" ]
}

@test "install: an existing config is never overwritten; uninstall removes the untouched one" {
  local d=$T/destdir3
  inst install-only DESTDIR="$d" > /dev/null 2>&1
  echo "# mine" >> "$d/etc/zonedrop/zonedrop.yml"
  cp "$d/etc/zonedrop/zonedrop.yml" "$T/mine.yml"
  run inst install-only DESTDIR="$d"
  [ "$status" -eq 0 ] && [[ $output == *"kept $d/etc/zonedrop/zonedrop.yml"* ]]
  cmp "$d/etc/zonedrop/zonedrop.yml" "$T/mine.yml"
  # an unchanged config goes with uninstall
  local d2=$T/destdir4
  inst install-only DESTDIR="$d2" > /dev/null 2>&1
  inst uninstall DESTDIR="$d2" > /dev/null 2>&1
  [ -z "$(find "$d2" -type f)" ] || { find "$d2" -type f; return 1; }
}

@test "install: the flow from an installed tree: installed CGI behind lighttpd, installed drain, NSD" {
  local R=$T/root d=soak.install.e2e.example conf
  inst install-only PREFIX="$R/usr/local" SYSCONFDIR="$R/etc" SYSTEMDUNITDIR="$R/lib/systemd/system" \
    TMPFILESDIR="$R/usr/lib/tmpfiles.d" > "$T/install.log" 2>&1 || { cat "$T/install.log"; return 1; }
  conf=$R/etc/zonedrop/zonedrop.yml
  # the operator's edit: our spool, state and NSD (the installed example does not know them)
  ZD_CONFIG=$conf write_config
  export ZD_CONFIG=$conf
  run "$R/usr/local/sbin/zonedrop" -c "$conf" check-config
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  # lighttpd runs the installed CGI (start_lighttpd takes zonedrop.cgi from ZONEDROP_BIN)
  ZONEDROP_BIN=$R/usr/local/libexec/zonedrop start_lighttpd
  grep -q "$R/usr/local/libexec/zonedrop/zonedrop.cgi" "$T/lighttpd/lighttpd.conf"
  da_zone "$d" 2026070701 192.0.2.71 > "$T/z"
  push_ok "$d" "$T/z"
  [ "$(spool_count new)" -eq 1 ]
  run timeout "$ZD_DRAIN_TIMEOUT" "$R/usr/local/sbin/zonedrop-drain" -c "$conf"
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  served "$d" 2026070701
  expect_answer "www.$d" A 192.0.2.71
  run "$R/usr/local/sbin/zonedrop" -c "$conf" zones
  [[ $output == *"$d"* ]]
  # man pages are readable from the installed tree
  MANPATH=$R/usr/local/share/man man -w zonedrop-drain > /dev/null
}

@test "uninstall: nothing is left but the changed config" {
  local R=$T/root left
  run make -s -C "$REPO" OUT="$ZONEDROP_BIN" uninstall PREFIX="$R/usr/local" SYSCONFDIR="$R/etc" \
    SYSTEMDUNITDIR="$R/lib/systemd/system" TMPFILESDIR="$R/usr/lib/tmpfiles.d"
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  [[ $output == *"left $R/etc/zonedrop/zonedrop.yml in place"* ]]
  left=$(find "$R" -type f -printf '%P\n')
  [ "$left" = etc/zonedrop/zonedrop.yml ] || { echo "left behind: $left"; return 1; }
  [ ! -e "$R/usr/local/libexec/zonedrop" ] && [ ! -e "$R/usr/local/share/doc/zonedrop" ]
}
