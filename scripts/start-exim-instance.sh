#!/bin/sh
# start-exim-instance.sh — a private, loopback-only Exim for tests, without
# installing Debian's exim4 packages (they would replace Postfix: both are
# the system's mail-transport-agent).
#
#   start-exim-instance.sh binary                     print the exim binary (fetch it if needed)
#   start-exim-instance.sh start BASEDIR SINK:PORT    binary + config + spool/log dirs
#   start-exim-instance.sh run   BASEDIR ARGS...      exim -C BASEDIR/exim.conf ARGS...
#   start-exim-instance.sh stop  BASEDIR              wait for deliveries in flight to end
#
# The binary: Debian's exim4-daemon-light, exim4-base and exim4-config are
# fetched with `apt-get download` and unpacked with `dpkg -x` into
# $MT_EXIM_ROOT (default /var/tmp/mailtriage-exim), once; their shared
# libraries come from scripts/install-deps.sh.  The binary has Debian's
# compiled-in exim user, Debian-exim, which is created (as the package's
# postinst would) when missing.  eximstats (exim4-base) is there too.
#
# Layout under BASEDIR: exim.conf, spool/, log/mainlog (log/paniclog).
# No daemon listens anywhere; messages are submitted on the command line
# (`run BASEDIR -odi -f SENDER -- RCPT… < msg`) and queue runs are driven by
# the caller (`run BASEDIR -q`), so nothing is left running.
# Routing: 163.com, 126.com -> transport remote_cn (HELO cn.mta.test.invalid);
# qq.com, sender.example -> remote_smtp; both to SINK from 127.0.0.1
# (+outgoing_interface logs it); every other domain fails (:fail:), nothing
# leaves the machine, no DNS.  Log selectors: the ones the reader reads
# (+outgoing_interface +smtp_confirmation +deliver_time +queue_time
# +received_recipients +subject +millisec).
# Tunables (environment): EXIM_RETRY (retry interval, 4s), EXIM_GIVEUP
# (give up after, 40s).  Must run as root.
set -eu

usage() { echo "usage: $0 binary | start BASEDIR SINK:PORT | run BASEDIR ARGS... | stop BASEDIR" >&2; exit 2; }
[ $# -ge 1 ] || usage
action=$1
root=${MT_EXIM_ROOT:-/var/tmp/mailtriage-exim}
exim=$root/usr/sbin/exim4

binary() {
    if [ ! -x "$exim" ]; then
        tmp=$(mktemp -d /tmp/mt-exim-deb.XXXXXX)
        # apt runs its download as _apt: give it a directory it may write
        chmod 777 "$tmp"
        if command -v flock >/dev/null 2>&1; then
            (cd "$tmp" && flock /tmp/mt-apt.lock apt-get download -qq exim4-daemon-light exim4-base exim4-config) >&2
        else
            (cd "$tmp" && apt-get download -qq exim4-daemon-light exim4-base exim4-config) >&2
        fi
        mkdir -p "$root"
        for d in "$tmp"/*.deb; do dpkg -x "$d" "$root"; done
        rm -rf "$tmp"
    fi
    [ -x "$exim" ] || { echo "$0: no exim binary at $exim" >&2; exit 1; }
    if ! getent passwd Debian-exim >/dev/null; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin Debian-exim >&2
    fi
    echo "$exim"
}

case $action in
binary)
    binary
    ;;
start)
    [ $# -eq 3 ] || usage
    base=$2 sink=$3
    case $base in /*) ;; *) echo "$0: BASEDIR must be absolute" >&2; exit 2 ;; esac
    case $sink in 127.*:[0-9]*) ;; *) echo "$0: sink must be a 127.x.x.x:PORT address" >&2; exit 2 ;; esac
    binary >/dev/null
    mkdir -p "$base/spool" "$base/log"
    cat >"$base/exim.conf" <<EOF
# written by start-exim-instance.sh
keep_environment =
primary_hostname = exim-e2e.test.invalid
spool_directory = $base/spool
log_file_path = $base/log/%slog
exim_path = $exim
timezone = UTC
log_selector = +outgoing_interface +smtp_confirmation +deliver_time +queue_time +received_recipients +subject +millisec
domainlist local_domains =
# no DSN "delay warnings" in a test that lasts a minute
delay_warning = 0s

begin routers
cn:
  driver = manualroute
  domains = 163.com : 126.com
  route_list = * ${sink%:*}
  transport = remote_cn
  self = send
others:
  driver = manualroute
  domains = qq.com : sender.example
  route_list = * ${sink%:*}
  transport = remote_smtp
  self = send
nowhere:
  driver = redirect
  data = :fail: not routed by the test instance

begin transports
remote_cn:
  driver = smtp
  port = ${sink##*:}
  interface = 127.0.0.1
  helo_data = cn.mta.test.invalid
  allow_localhost
remote_smtp:
  driver = smtp
  port = ${sink##*:}
  interface = 127.0.0.1
  allow_localhost

begin retry
* * F,${EXIM_GIVEUP:-40s},${EXIM_RETRY:-4s}
EOF
    chown -R Debian-exim:Debian-exim "$base/spool" "$base/log"
    chmod 750 "$base/spool" "$base/log"
    "$exim" -C "$base/exim.conf" -bV >"$base/exim-version.txt" 2>&1 ||
        { cat "$base/exim-version.txt" >&2; exit 1; }
    ;;
run)
    [ $# -ge 2 ] || usage
    base=$2
    shift 2
    exec "$exim" -C "$base/exim.conf" "$@"
    ;;
stop)
    [ $# -eq 2 ] || usage
    base=$2
    # queue runs are driven by the caller and end by themselves: wait up to
    # 10 s for any still working on this config (deliveries in flight)
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        pgrep -f -- "-C $base/exim.conf" >/dev/null 2>&1 || exit 0
        sleep 1
    done
    echo "$0: exim processes still running on $base/exim.conf" >&2
    exit 1
    ;;
*)
    usage
    ;;
esac
