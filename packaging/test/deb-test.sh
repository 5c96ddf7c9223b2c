#!/bin/bash
# End-to-end test of goconfd's .deb in a throwaway Debian bookworm root
# (mmdebstrap; never the machine's own /usr): install it beside Ganeti
# 3.0's ganeti-confd, serve and answer Ganeti's Python client and
# confd-client, upgrade, fail halfway, remove while the daemon runs,
# install without Ganeti, and let Ganeti arrive and leave afterwards.
# Each step prints its duration; any failed check stops the test, exit 1.
#
#   packaging/test/deb-test.sh            # from the repository's root, as root
#
# Needs: root, apt access to Debian (mmdebstrap is installed if missing),
# Go, and the reference setup (conformance/reference/setup.sh) for
# Ganeti's Python client. The root is cached as a tarball in
# $GOCONFD_DEBROOT_CACHE (default /var/cache/goconfd/bookworm-ganeti.tar):
# building it takes minutes, unpacking it seconds.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
REF_DIR=${GOCONFD_REF_DIR:-$REPO/conformance/reference}
# Where setup.sh downloaded Ganeti's .debs (env.sh's default, /tmp/ganeti-ref).
REF_CACHE=${GANETI_REF_CACHE:-/tmp/ganeti-ref}
CACHE=${GOCONFD_DEBROOT_CACHE:-/var/cache/goconfd/bookworm-ganeti.tar}
MIRROR=${GOCONFD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
GANETI_BIN=/usr/lib/ganeti/3.0/usr/sbin/ganeti-confd
SAVED_BIN=$GANETI_BIN.ganeti
export PATH=/usr/local/go/bin:$PATH

fail() { echo "deb-test: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "must run as root (dpkg in a chroot)"
T0=$(date +%s)
step() { # step NAME: print the previous step's duration, start NAME
	local now; now=$(date +%s)
	[ -n "${STEP:-}" ] && printf 'deb-test: %-50s %4ss\n' "$STEP" $((now - STEP_T))
	STEP=$1 STEP_T=$now
}

WORK=$(mktemp -d /tmp/goconfd-debtest.XXXXXX)
ROOT=$WORK/root
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in $(cat "$ROOT"/run/ganeti/*.pid 2>/dev/null); do kill "$p" 2>/dev/null || true; done
	umount -l "$ROOT/dev" 2>/dev/null || true
	umount -l "$ROOT/proc" 2>/dev/null || true
	rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
in_root() { chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }

step "build the package (twice: install and upgrade)"
(cd "$REPO/packaging" && go run ./mkdeb -o "$WORK/dist" >"$WORK/mkdeb.log")
DEB=$(tail -n1 "$WORK/mkdeb.log")
VERSION=$(dpkg-deb -f "$DEB" Version)
(cd "$REPO/packaging" && go run ./mkdeb -o "$WORK/dist2" -version "$VERSION+upgrade1" >"$WORK/mkdeb2.log")
DEB2=$(tail -n1 "$WORK/mkdeb2.log")

step "a Debian root with ganeti-haskell-3.0"
if [ ! -s "$CACHE" ]; then
	command -v mmdebstrap >/dev/null || apt-get install -y -q --no-install-recommends mmdebstrap >/dev/null
	mkdir -p "$(dirname "$CACHE")"
	# mmdebstrap picks the output's format by its name: keep ".tar" last.
	mmdebstrap --quiet --format=tar --variant=apt --include=ganeti-haskell-3.0,man-db \
		bookworm "$CACHE.tmp.tar" "$MIRROR" || fail "mmdebstrap could not build the root (mirror $MIRROR)"
	mv "$CACHE.tmp.tar" "$CACHE"
fi
mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$CACHE"
mount --bind /dev "$ROOT/dev"
mount -t proc proc "$ROOT/proc"
cp "$DEB" "$DEB2" "$ROOT/tmp/"
cp "$REF_CACHE"/debs/ganeti-haskell-3.0_*.deb "$ROOT/tmp/" 2>/dev/null ||
	in_root sh -c 'cp /var/cache/apt/archives/ganeti-haskell-3.0_*.deb /tmp/' ||
	fail "no ganeti-haskell-3.0 .deb to reinstall (run conformance/reference/setup.sh)"
GANETI_DEB=$(cd "$ROOT" && ls tmp/ganeti-haskell-3.0_*.deb | head -n1)
in_root "$GANETI_BIN" -V | grep -q '(ganeti)' || fail "Ganeti's own binary does not run in the root"

in_root mkdir -p /var/lib/ganeti /var/run/ganeti /var/log/ganeti
cp "$REPO/examples/config.data" "$REPO/examples/hmac.key" "$ROOT/var/lib/ganeti/"
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)

# which_confd PATH: "goconfd" or "ganeti", from the binary's -V.
which_confd() { in_root "$1" -V | head -n1 | sed -n 's/^ganeti-confd (\([a-z]*\)) version.*/\1/p'; }
diverter() { in_root dpkg-divert --listpackage "$1" || true; }
# ask PORT: the cluster master, by confd-client inside the root.
ask() { in_root confd-client --key-file /var/lib/ganeti/hmac.key -a 127.0.0.1 --port "$1" --timeout 3s cluster-master; }
# pyask PORT: the same question through Ganeti 3.0's own Python client.
pyask() { /usr/bin/python3 "$REF_DIR/pyquery.py" -k "$ROOT/var/lib/ganeti/hmac.key" -s "127.0.0.1:$1" cluster_master; }
# start_confd BIN PORT: start detached, as daemon-util does; returns once it serves.
start_confd() { in_root env GANETI_HOSTNAME=node1.example.org "$1" --no-user-checks -b 127.0.0.1 -p "$2"; }

step "install beside Ganeti: divert and take its place"
in_root dpkg -i "/tmp/$(basename "$DEB")" >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; fail "dpkg -i"; }
[ "$(diverter $GANETI_BIN)" = goconfd ] || fail "Ganeti's binary is not diverted by goconfd"
[ "$(which_confd $GANETI_BIN)" = goconfd ] || fail "Ganeti's path does not run goconfd"
[ "$(which_confd $SAVED_BIN)" = ganeti ] || fail "Ganeti's binary is not kept at $SAVED_BIN"
[ "$(in_root dpkg-query -W -f '${Version}' goconfd)" = "$VERSION" ] || fail "dpkg version"
in_root "$GANETI_BIN" -V | grep -qF "version $VERSION" || fail "-V does not say $VERSION: $(in_root $GANETI_BIN -V)"
in_root confd-client --version | grep -qF "$VERSION" || fail "confd-client --version does not say $VERSION"
in_root confd-load --version | grep -qF "$VERSION" || fail "confd-load --version does not say $VERSION"

step "serve from the installed files; Ganeti's client and confd-client ask"
start_confd "$GANETI_BIN" "$PORT" || fail "the installed daemon did not start"
grep -qF "version $VERSION starting" "$ROOT/var/log/ganeti/conf-daemon.log" || fail "the log's startup line does not say $VERSION"
ask "$PORT" | grep -q '^node1.example.org$' || fail "confd-client got no answer from the installed daemon"
pyask "$PORT" | grep -q '"answer": "node1.example.org"' || fail "Ganeti's Python client got no answer: $(pyask "$PORT")"
DAEMON_PID=$(cat "$ROOT/run/ganeti/ganeti-confd.pid")

# From here a stand-in for Ganeti's daemon-util (the root has Ganeti's
# binary, not its Python tools) checks, stops and starts confd through its
# pid file with CONFD_ARGS from /etc/default/ganeti, as Ganeti's does: the
# maintainer scripts must restart a running confd onto the binary they put.
cat >"$ROOT/usr/lib/ganeti/daemon-util" <<STANDIN
#!/bin/sh
[ "\$2" = ganeti-confd ] || exit 1
. /etc/default/ganeti
pidf=/var/run/ganeti/ganeti-confd.pid
case \$1 in
check) [ -s \$pidf ] && kill -0 "\$(cat \$pidf)" 2>/dev/null ;;
stop) pid=\$(cat \$pidf); kill "\$pid"; i=0
	while kill -0 "\$pid" 2>/dev/null; do i=\$((i + 1)); [ \$i -lt 100 ] || exit 1; sleep 0.1; done ;;
start) GANETI_HOSTNAME=node1.example.org $GANETI_BIN \$CONFD_ARGS ;;
*) exit 1 ;;
esac
STANDIN
chmod 755 "$ROOT/usr/lib/ganeti/daemon-util"
mkdir -p "$ROOT/etc/default"
echo "CONFD_ARGS='--no-user-checks -b 127.0.0.1 -p $PORT'" >"$ROOT/etc/default/ganeti"
# restarted_onto WHO VERSION: confd was restarted (another pid) and the
# running process is WHO's binary (its -V, read through /proc) and answers.
restarted_onto() {
	local pid; pid=$(cat "$ROOT/run/ganeti/ganeti-confd.pid")
	[ "$pid" != "$DAEMON_PID" ] || fail "confd was not restarted (pid $pid)"
	in_root "/proc/$pid/exe" -V | head -n1 | grep -qF "($1) version $2" ||
		fail "the restarted confd runs $(in_root "/proc/$pid/exe" -V | head -n1), not $1 $2"
	pyask "$PORT" | grep -q '"answer": "node1.example.org"' || fail "the restarted confd does not answer"
	DAEMON_PID=$pid
}

step "man pages render, completion loads"
for page in /usr/share/man/man8/ganeti-confd.8.gz /usr/share/man/man1/confd-client.1.gz /usr/share/man/man1/confd-load.1.gz; do
	in_root sh -c "MANWIDTH=80 man --warnings -l $page 2>/tmp/man.err >/tmp/man.out" || fail "man -l $page"
	[ ! -s "$ROOT/tmp/man.err" ] || fail "man -l $page warns: $(cat "$ROOT/tmp/man.err")"
	grep -q NAME "$ROOT/tmp/man.out" || fail "man -l $page has no NAME section"
done
[ "$(diverter /usr/share/man/man8/ganeti-confd.8.gz)" = goconfd ] || fail "Ganeti's man page is not diverted"
in_root bash -c 'source /usr/share/bash-completion/completions/confd-client; COMP_WORDS=(confd-client node-r); COMP_CWORD=1; _confd_client; echo "${COMPREPLY[*]}"' |
	grep -qx node-role || fail "bash completion of confd-client"

step "upgrade keeps the divert, restarts confd onto the new binary"
in_root dpkg -i "/tmp/$(basename "$DEB2")" >"$WORK/upgrade.log" 2>&1 || { cat "$WORK/upgrade.log"; fail "upgrade"; }
[ "$(diverter $GANETI_BIN)" = goconfd ] || fail "the upgrade lost the divert"
in_root "$GANETI_BIN" -V | grep -qF "version $VERSION+upgrade1" || fail "the upgrade did not replace the binary"
[ "$(which_confd $SAVED_BIN)" = ganeti ] || fail "the upgrade lost Ganeti's binary"
restarted_onto goconfd "$VERSION+upgrade1"

step "an upgrade that fails halfway leaves a working binary"
if in_root env GOCONFD_MAINT_FAIL=before-rename dpkg -i "/tmp/$(basename "$DEB")" >"$WORK/fail1.log" 2>&1; then
	fail "the failure point before-rename did not fail the downgrade"
fi
which_confd $GANETI_BIN | grep -q . || fail "no working binary at Ganeti's path after a failed postinst"
in_root dpkg --configure -a >/dev/null 2>&1 || fail "dpkg --configure -a after the failure"
in_root "$GANETI_BIN" -V | grep -qF "version $VERSION" || fail "configure after the failure did not put the binary"
restarted_onto goconfd "$VERSION"

step "remove while confd runs: Ganeti's binary is back and serves"
in_root dpkg -r goconfd >"$WORK/remove.log" 2>&1 || { cat "$WORK/remove.log"; fail "dpkg -r"; }
[ -z "$(diverter $GANETI_BIN)" ] || fail "the divert is still there after removal"
[ "$(which_confd $GANETI_BIN)" = ganeti ] || fail "Ganeti's binary is not back"
[ ! -e "$ROOT$SAVED_BIN" ] || fail "$SAVED_BIN left behind"
[ -z "$(diverter /usr/share/man/man8/ganeti-confd.8.gz)" ] || fail "the man page divert is still there"
restarted_onto ganeti 3.0.2
in_root /usr/lib/ganeti/daemon-util stop ganeti-confd || fail "stopping Ganeti's confd"
rm "$ROOT/usr/lib/ganeti/daemon-util" # the later steps start their daemons themselves

step "an install that fails halfway leaves a working binary"
if in_root env GOCONFD_MAINT_FAIL=after-divert dpkg -i "/tmp/$(basename "$DEB")" >"$WORK/fail2.log" 2>&1; then
	fail "the failure point after-divert did not fail the install"
fi
[ "$(which_confd $GANETI_BIN)" = ganeti ] || fail "a failed install left no working Ganeti binary"
in_root dpkg -P goconfd >"$WORK/purge1.log" 2>&1 || { cat "$WORK/purge1.log"; fail "purging a half-installed package"; }
[ -z "$(diverter $GANETI_BIN)" ] && [ "$(which_confd $GANETI_BIN)" = ganeti ] || fail "purge after a failed install"
[ ! -e "$ROOT$SAVED_BIN" ] || fail "$SAVED_BIN left behind after purge"

step "install, purge, then without Ganeti"
in_root dpkg -i "/tmp/$(basename "$DEB")" >/dev/null 2>&1 || fail "reinstall"
in_root dpkg -P goconfd >/dev/null 2>&1 || fail "purge"
[ -z "$(diverter $GANETI_BIN)" ] && [ "$(which_confd $GANETI_BIN)" = ganeti ] || fail "purge did not give Ganeti's binary back"
in_root dpkg -P ganeti-haskell-3.0 >/dev/null 2>&1 || fail "purging ganeti-haskell-3.0"
in_root dpkg -i "/tmp/$(basename "$DEB")" >/dev/null 2>&1 || fail "install without Ganeti"
[ -z "$(diverter $GANETI_BIN)" ] && [ ! -e "$ROOT$GANETI_BIN" ] || fail "install without Ganeti touched Ganeti's path"
PORT3=$(free_port)
start_confd /usr/lib/goconfd/ganeti-confd "$PORT3" || fail "goconfd did not start without Ganeti"
ask "$PORT3" | grep -q '^node1.example.org$' || fail "goconfd without Ganeti does not answer"
kill "$(cat "$ROOT/run/ganeti/ganeti-confd.pid")"; sleep 0.5

step "Ganeti arrives after goconfd (trigger), then leaves"
in_root dpkg -i "/$GANETI_DEB" >"$WORK/ganeti.log" 2>&1 || { cat "$WORK/ganeti.log"; fail "installing ganeti-haskell-3.0"; }
[ "$(diverter $GANETI_BIN)" = goconfd ] || fail "the trigger did not divert Ganeti's new binary"
[ "$(which_confd $GANETI_BIN)" = goconfd ] && [ "$(which_confd $SAVED_BIN)" = ganeti ] || fail "the trigger did not put goconfd in place"
in_root dpkg -P ganeti-haskell-3.0 >"$WORK/ganeti-rm.log" 2>&1 || { cat "$WORK/ganeti-rm.log"; fail "removing ganeti-haskell-3.0"; }
[ -z "$(diverter $GANETI_BIN)" ] && [ ! -e "$ROOT$GANETI_BIN" ] || fail "the trigger did not tidy up after Ganeti left"
in_root dpkg -P goconfd >/dev/null 2>&1 || fail "final purge"

step done
echo "deb-test: all checks passed in $(( $(date +%s) - T0 ))s"
