# The systemd units and the tmpfiles.d snippet: `systemd-analyze verify` accepts every
# unit as installed (paths substituted, programs and man pages present), every service
# carries the hardening keys, each writes only where it must, the timers keep their
# periods, and systemd-tmpfiles creates the spool and state with the modes that carry
# the trust model (zonedrop-spool(5)), which then hold for the CGI's user.
#
# systemd need not be PID 1: verify only loads the unit files. systemd 252 checks that
# ExecStart= exists on the real filesystem even with --root (and --root needs a whole
# systemd tree), so the units are installed with PREFIX inside the work directory:
# their paths are real ones there.
load lib/servers

setup_file() {
  e2e_init
  R=$T/root
  export R
  make -s -C "$REPO" OUT="$ZONEDROP_BIN" install-only PREFIX="$R/usr/local" SYSCONFDIR="$R/etc" \
    SYSTEMDUNITDIR="$R/lib/systemd/system" TMPFILESDIR="$R/usr/lib/tmpfiles.d" > "$T/install.log" 2>&1 \
    || { cat "$T/install.log" >&2; return 1; }
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

UNITDIR=$REPO/systemd

# unit_key FILE KEY: the values of KEY= lines (last one wins in systemd; we print all)
unit_key() { sed -n "s/^$2=//p" "$1"; }

@test "units: every installed unit passes systemd-analyze verify without a word" {
  local u n=0 out
  command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing (scripts/install-deps)"; return 1; }
  for u in "$R"/lib/systemd/system/*; do
    # Documentation=man: pages are looked up with man(1): the installed ones
    out=$(cd "$T" && MANPATH="$R/usr/local/share/man" systemd-analyze verify "$u" 2>&1) \
      || { echo "$u: exit $?"; echo "$out"; return 1; }
    [ -z "$out" ] || { echo "$u:"; echo "$out"; return 1; }
    n=$((n + 1))
  done
  # the drain's three at least; the timer programs' when they are built
  [ "$n" -ge 3 ] || { echo "only $n units installed"; ls "$R/lib/systemd/system"; return 1; }
}

@test "units: each built program's units are installed, naming the installed program and config" {
  local u p base
  for u in "$UNITDIR"/*.service "$UNITDIR"/*.timer "$UNITDIR"/*.path; do
    base=${u##*/}
    p=${base%.*}
    if [ -x "$ZONEDROP_BIN/$p" ]; then
      [ -f "$R/lib/systemd/system/$base" ] || { echo "$base not installed"; return 1; }
    else
      say "$p is not built here: $base is checked as source only"
      [ ! -e "$R/lib/systemd/system/$base" ] || { echo "$base installed without its program"; return 1; }
    fi
  done
  for u in "$R"/lib/systemd/system/*.service; do
    p=${u##*/}
    p=${p%.service}
    [ "$(unit_key "$u" ExecStart)" = "$R/usr/local/sbin/$p -c $R/etc/zonedrop/zonedrop.yml" ] \
      || { echo "$u: ExecStart=$(unit_key "$u" ExecStart)"; return 1; }
    [ -x "$R/usr/local/sbin/$p" ]
  done
}

@test "units: every service runs as zonedrop with the hardening keys" {
  local u k missing
  for u in "$UNITDIR"/*.service; do
    missing=
    for k in Type=oneshot User=zonedrop Group=zonedrop NoNewPrivileges=yes ProtectSystem=strict \
             PrivateTmp=yes PrivateDevices=yes ProtectHome=yes ProtectKernelTunables=yes \
             ProtectKernelModules=yes ProtectKernelLogs=yes ProtectControlGroups=yes ProtectClock=yes \
             ProtectHostname=yes RestrictNamespaces=yes RestrictRealtime=yes RestrictSUIDSGID=yes \
             LockPersonality=yes MemoryDenyWriteExecute=yes SystemCallArchitectures=native \
             SystemCallFilter=@system-service CapabilityBoundingSet= AmbientCapabilities= \
             "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" SuccessExitStatus=75; do
      grep -qxF -- "$k" "$u" || missing="$missing [$k]"
    done
    [ -z "$missing" ] || { echo "${u##*/} lacks:$missing"; return 1; }
    # -c names the config: the unit never depends on the program's compiled-in default
    [[ $(unit_key "$u" ExecStart) == *" -c /etc/zonedrop/zonedrop.yml" ]] \
      || { echo "${u##*/}: ExecStart has no -c: $(unit_key "$u" ExecStart)"; return 1; }
  done
}

@test "units: each service may write the spool and the state, nothing else" {
  local u rw
  for u in "$UNITDIR"/*.service; do
    rw=$(unit_key "$u" ReadWritePaths | tr '\n' ' ')
    [ "$rw" = "-/var/spool/zonedrop -/var/lib/zonedrop " ] || { echo "${u##*/}: ReadWritePaths=$rw"; return 1; }
    ! grep -qE '^(ReadWriteDirectories|InaccessiblePaths|ProtectSystem=(no|yes|full))' "$u"
  done
  # the drain documents how operators add their backends' directories
  grep -q '^#   ReadWritePaths=/etc/nsd/nsd.conf.d' "$UNITDIR/zonedrop-drain.service"
}

@test "units: the path unit fires on new/ not empty; the timers keep their periods" {
  [ "$(unit_key "$UNITDIR/zonedrop-drain.path" DirectoryNotEmpty)" = /var/spool/zonedrop/new ]
  [ "$(unit_key "$UNITDIR/zonedrop-drain.path" Unit)" = zonedrop-drain.service ]
  # no start limit may silence the path unit on a busy spool
  [ "$(unit_key "$UNITDIR/zonedrop-drain.service" StartLimitIntervalSec)" = 0 ]
  [ "$(unit_key "$UNITDIR/zonedrop-drain.timer" OnUnitInactiveSec)" = 30s ]
  [ "$(unit_key "$UNITDIR/zonedrop-reconcile.timer" OnUnitActiveSec)" = 1h ]
  [ "$(unit_key "$UNITDIR/zonedrop-peersync.timer" OnUnitActiveSec)" = 15min ]
  [ "$(unit_key "$UNITDIR/zonedrop-refresh.timer" OnUnitInactiveSec)" = 1min ]
  local t
  for t in drain reconcile peersync refresh; do
    [ "$(unit_key "$UNITDIR/zonedrop-$t.timer" Unit)" = "zonedrop-$t.service" ]
    grep -qx 'WantedBy=timers.target' "$UNITDIR/zonedrop-$t.timer"
  done
}

# tmpfiles into a root of our own, whose passwd/group define zonedrop and www-data
tmpfiles_root() {
  local tr=$T/troot
  rm -rf "$tr"
  mkdir -p "$tr/etc"
  printf 'root:x:0:0::/root:/bin/sh\nzonedrop:x:4711:4711::/var/lib/zonedrop:/usr/sbin/nologin\nwww-data:x:4733:4733::/var/www:/usr/sbin/nologin\n' > "$tr/etc/passwd"
  printf 'root:x:0:\nzonedrop:x:4711:\nwww-data:x:4733:zonedrop\n' > "$tr/etc/group"
  systemd-tmpfiles --create --root="$tr" "$R/usr/lib/tmpfiles.d/zonedrop.conf"
}

@test "tmpfiles: spool and state are created with the documented owners and modes" {
  [ "$(id -u)" = 0 ] || skip "needs root to chown"
  run tmpfiles_root
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  [ -z "$output" ] || { echo "$output"; return 1; }
  local s=$T/troot/var/spool/zonedrop
  [ "$(stat -c '%a %u:%g' "$s")" = "750 4711:4733" ]
  [ "$(stat -c '%a %u:%g' "$s/tmp")" = "3770 4711:4733" ]
  [ "$(stat -c '%a %u:%g' "$s/new")" = "3770 4711:4733" ]
  [ "$(stat -c '%a %u:%g' "$s/cur")" = "700 4711:4711" ]
  [ "$(stat -c '%a %u:%g' "$s/bad")" = "700 4711:4711" ]
  [ "$(stat -c '%a %u:%g %F' "$s/counters")" = "660 4711:4733 regular empty file" ]
  [ "$(stat -c '%a %u:%g' "$T/troot/var/lib/zonedrop")" = "2751 4711:4733" ]
}

# as UID GID CMD...: run CMD as that user, with only that group
as() { local u=$1 g=$2; shift 2; setpriv --reuid="$u" --regid="$g" --clear-groups -- "$@"; }
# as_zd CMD...: as zonedrop (4711), a member of www-data (4733), as the units run it
as_zd() { setpriv --reuid=4711 --regid=4711 --groups=4733 -- "$@"; }

@test "tmpfiles: the modes hold for the CGI's user: tmp/ and new/ only, nothing of others, state read-only" {
  [ "$(id -u)" = 0 ] || skip "needs root to switch users"
  tmpfiles_root
  local s=$T/troot/var/spool/zonedrop st=$T/troot/var/lib/zonedrop
  # the tmp dir of the test is searchable by others (e2e_init makes T 0755)
  chmod 755 "$T/troot" "$T/troot/var" "$T/troot/var/spool" "$T/troot/var/lib"
  # the drain (zonedrop, in www-data) left an item; the state holds a db and a snapshot
  as_zd sh -c "echo other > $s/new/1.000001.1_1.h"
  as_zd sh -c "umask 027; echo db > $st/state.db; echo idx > $st/zones.idx; chmod 0644 $st/zones.idx"
  # setgid state_dir: what the tools write there belongs to the CGI's group
  [ "$(stat -c '%a %g' "$st/state.db")" = "640 4733" ]
  # the CGI (www-data): write in tmp/, rename into new/, open new/ to fsync it
  as 4733 4733 sh -c "echo mine > $s/tmp/2.000001.2_1.h && mv $s/tmp/2.000001.2_1.h $s/new/2.000001.2_1.h"
  [ "$(stat -c '%g' "$s/new/2.000001.2_1.h")" = 4733 ]
  as 4733 4733 ls "$s/new" > /dev/null
  # ...but it cannot remove or replace an item it did not write (sticky)
  ! as 4733 4733 rm -f "$s/new/1.000001.1_1.h" 2>/dev/null
  ! as 4733 4733 mv -f "$s/new/2.000001.2_1.h" "$s/new/1.000001.1_1.h" 2>/dev/null
  [ "$(cat "$s/new/1.000001.1_1.h")" = other ]
  # ...nor reach cur/ or bad/
  ! as 4733 4733 ls "$s/cur" 2>/dev/null
  ! as 4733 4733 sh -c "echo x > $s/bad/x" 2>/dev/null
  # it may count (counters) but not create other files in the spool's top
  as 4733 4733 sh -c "echo 1 >> $s/counters"
  ! as 4733 4733 sh -c "echo x > $s/other" 2>/dev/null
  # the state: readable, never writable
  as 4733 4733 cat "$st/state.db" "$st/zones.idx" > /dev/null
  ! as 4733 4733 sh -c "echo x >> $st/state.db" 2>/dev/null
  ! as 4733 4733 sh -c "echo x > $st/new-file" 2>/dev/null
  # and the drain (zonedrop, member of www-data) can read the CGI's item and move it
  as_zd sh -c "cat $s/new/2.000001.2_1.h >/dev/null && mv $s/new/2.000001.2_1.h $s/cur/"
}
