# refresh.bash -- masters for zonedrop-refresh tests: one NSD listening on several
# 127.0.0.1 ports (each port stands for one master server), generated zones,
# serial bumps, AXFR counts from NSD's log (verbosity 2 logs "axfr for ZONE.").
#
#   load lib/servers
#   load lib/refresh
#   start_master_nsd NPORTS NZONES [TSIG_SECRET]   # sets MASTER_DIR MASTER_PORTS (array)
#   write_zones_file > $T/secondary.zones          # zone i -> port i % NPORTS
#
# Several masters at once: MASTER_NAME (default "master") names the work
# subdirectory and the remembered PID; MASTER_PREFIX (default "z") the generated
# zone names; MASTER_SOA (default "3600 600 86400 300") the refresh, retry,
# expire and minimum of their SOA. Zone texts are written by one awk process: a
# shell loop (a subshell and a cat per zone) took ~90 s for 2,000 zones on a busy
# machine, while NSD itself starts 100,000 zones on 1,000 ports in ~25 s.
# shellcheck shell=bash

# master_zone NAME SERIAL [EXTRA_LINE]: a small zone's text (what
# master_gen_zones writes, plus EXTRA_LINE)
master_zone() {
  cat <<EOF
\$TTL 300
$1. IN SOA ns1.$1. hostmaster.$1. ( $2 ${MASTER_SOA:-3600 600 86400 300} )
$1. IN NS ns1.$1.
ns1.$1. IN A 192.0.2.1
www.$1. IN A 192.0.2.80
$1. IN TXT "serial $2"
${3:-}
EOF
}

# refresh_zone_name I [PREFIX]: the name of generated zone I
refresh_zone_name() { printf '%s%05d.refresh-e2e.test' "${2:-${MASTER_PREFIX:-z}}" "$1"; }

# master_gen_zones DIR SERIAL [CONF_OUT] < INDEXES: for each zone index on stdin,
# DIR/zones/NAME.zone with SERIAL (the master_zone text); with CONF_OUT, an NSD
# zone: stanza for each (pattern "open") appended to it. One awk process.
master_gen_zones() {
  awk -v d="$1" -v serial="$2" -v conf="${3:-}" -v prefix="${MASTER_PREFIX:-z}" \
      -v soa="${MASTER_SOA:-3600 600 86400 300}" '
    {
      z = sprintf("%s%05d.refresh-e2e.test", prefix, $1)
      f = d "/zones/" z ".zone"
      printf "$TTL 300\n%s. IN SOA ns1.%s. hostmaster.%s. ( %s %s )\n", z, z, z, serial, soa > f
      printf "%s. IN NS ns1.%s.\nns1.%s. IN A 192.0.2.1\nwww.%s. IN A 192.0.2.80\n", z, z, z, z > f
      printf "%s. IN TXT \"serial %s\"\n\n", z, serial > f
      close(f)
      if (conf != "")
        printf "zone:\n  name: %s\n  zonefile: \"%s\"\n  include-pattern: open\n", z, f >> conf
    }'
}

# start_master_nsd NPORTS NZONES [TSIG_SECRET]: NSD on NPORTS free ports serving
# NZONES zones (serial 1) to anyone; with TSIG_SECRET also tsig.refresh-e2e.test,
# transferred only with key xfr-key (hmac-sha256). Sets MASTER_DIR, MASTER_PORTS,
# MASTER_NZONES, MASTER_CONF, MASTER_PID (exported, but for the array). Another
# process may take one of the free ports before NSD binds it (other tests run at
# the same time): then NSD exits at once and is started again on new ports (3 tries).
start_master_nsd() {
  local nports=$1 nzones=$2 secret=${3:-} name=${MASTER_NAME:-master} d try
  d=$T/$name
  mkdir -p "$d/zones"
  MASTER_NZONES=$nzones MASTER_DIR=$d MASTER_CONF=$d/nsd.conf
  # the zones, once: included by nsd.conf
  : > "$d/zones.conf"
  if [ -n "$secret" ]; then
    cat >> "$d/zones.conf" <<EOF
key:
  name: xfr-key
  algorithm: hmac-sha256
  secret: "$secret"
pattern:
  name: keyed
  provide-xfr: 127.0.0.1 xfr-key
zone:
  name: tsig.refresh-e2e.test
  zonefile: "$d/zones/tsig.refresh-e2e.test.zone"
  include-pattern: keyed
EOF
    master_zone tsig.refresh-e2e.test 1 > "$d/zones/tsig.refresh-e2e.test.zone"
  fi
  if [ "$nzones" -gt 0 ]; then
    seq 0 $((nzones - 1)) | master_gen_zones "$d" 1 "$d/zones.conf" || return 1
  fi
  for try in 1 2 3; do
    master_nsd_conf "$d" "$nports" || return 1
    nsd-checkconf "$d/nsd.conf" || return 1
    nsd -d -c "$d/nsd.conf" > "$d/nsd.stderr" 2>&1 3>&- &
    MASTER_PID=$!
    remember "$name" "$MASTER_PID"
    MASTER_PORT_LIST="${MASTER_PORTS[*]}"
    export MASTER_DIR MASTER_NZONES MASTER_CONF MASTER_PORT_LIST MASTER_PID
    # the last zone on the last port answers once NSD has read everything
    master_wait_up 300 "$(refresh_zone_name $((nzones > 0 ? nzones - 1 : 0)))" && return 0
    kill -0 "$MASTER_PID" 2>/dev/null && break   # alive but not answering: give up
    grep -q "Address already in use" "$d/nsd.log" "$d/nsd.stderr" 2>/dev/null || break
    say "master nsd: a port was taken before NSD bound it (try $try); new ports"
  done
  tail -5 "$d/nsd.log" "$d/nsd.stderr" >&2
  return 1
}

# master_nsd_conf DIR NPORTS: MASTER_PORTS (new free ports) and DIR/nsd.conf
master_nsd_conf() {
  local d=$1 p
  read -r -a MASTER_PORTS <<< "$(free_ports "$2")"
  [ "${#MASTER_PORTS[@]}" -eq "$2" ] || return 1
  : > "$d/nsd.log"
  {
    echo "# written by tests/e2e/lib/refresh.bash"
    echo "server:"
    for p in "${MASTER_PORTS[@]}"; do echo "  ip-address: 127.0.0.1@$p"; done
    cat <<EOF
  do-ip6: no
  server-count: 1
  username: ""
  chroot: ""
  zonesdir: "$d"
  database: ""
  zonelistfile: "$d/zone.list"
  pidfile: "$d/nsd.pid"
  xfrdfile: "$d/xfrd.state"
  xfrdir: "$d"
  logfile: "$d/nsd.log"
  verbosity: 2
  rrl-ratelimit: 0
remote-control:
  control-enable: yes
  control-interface: "$d/nsd.ctl"
pattern:
  name: open
  provide-xfr: 127.0.0.1 NOKEY
include: "$d/zones.conf"
EOF
  } > "$d/nsd.conf"
}

# master_wait_up SECONDS ZONE: the master answers ZONE (serial 1) on its last
# port; fails at once when the NSD process has exited
master_wait_up() {
  local end=$((SECONDS + $1))
  until master_serves "$2" 1 "${MASTER_PORTS[-1]}"; do
    kill -0 "$MASTER_PID" 2>/dev/null || { echo "master nsd $MASTER_PID exited" >&2; return 1; }
    [ $SECONDS -lt $end ] || { echo "timed out after $1 s waiting for the master nsd" >&2; return 1; }
    sleep 0.1
  done
}

# master_ports_load: MASTER_PORTS again from the exported list (bats runs each
# test in a new process; arrays are not exported)
master_ports_load() { read -r -a MASTER_PORTS <<< "$MASTER_PORT_LIST"; }

# master_serves ZONE SERIAL [PORT]: the master answers SERIAL for ZONE
master_serves() {
  [ "$(dig +short +norec +time=1 +tries=1 -p "${3:-${MASTER_PORTS[0]}}" @127.0.0.1 "$1" SOA | awk '{print $3}')" = "$2" ]
}

# master_bump ZONE SERIAL [EXTRA_LINE]: new text on the master, reloaded
master_bump() {
  master_zone "$1" "$2" "${3:-}" > "$MASTER_DIR/zones/$1.zone"
  nsd-control -c "$MASTER_CONF" reload "$1" > /dev/null || return 1
  wait_until 30 "master serving $1 serial $2" master_serves "$1" "$2"
}

# master_axfrs ZONE: AXFRs of ZONE the master logged so far
master_axfrs() { grep -c "axfr for $1\. " "$MASTER_DIR/nsd.log" || true; }

# write_zones_file [N]: the first N (default all) generated zones, zone i on port i % NPORTS
write_zones_file() {
  echo "# secondary zones (tests/e2e/lib/refresh.bash)"
  awk -v n="${1:-$MASTER_NZONES}" -v ports="${MASTER_PORTS[*]}" -v prefix="${MASTER_PREFIX:-z}" '
    BEGIN {
      np = split(ports, p, " ")
      for (i = 0; i < n; i++) printf "%s%05d.refresh-e2e.test 127.0.0.1:%s\n", prefix, i, p[i % np + 1]
    }'
}

# refresh [ARGS]: one zonedrop-refresh run with the test config
refresh() { "$ZONEDROP_BIN/zonedrop-refresh" -c "$ZD_CONFIG" "$@"; }
