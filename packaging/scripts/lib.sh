# Shared by goconfd's maintainer scripts; mkdeb puts it at the top of each
# (a maintainer script cannot source a file of its package: postrm runs
# after the package's files are gone).
#
# The invariant every function keeps: at every moment, and whatever fails,
# Ganeti's path names a working ganeti-confd binary (Ganeti's or
# goconfd's). Files are put in place by rename(2), which replaces a name
# atomically; nothing is removed before its replacement is there.
set -e

GANETI_BIN=/usr/lib/ganeti/3.0/usr/sbin/ganeti-confd
SAVED_BIN=/usr/lib/ganeti/3.0/usr/sbin/ganeti-confd.ganeti
OUR_BIN=/usr/lib/goconfd/ganeti-confd
MAN_PAGE=/usr/share/man/man8/ganeti-confd.8.gz
SAVED_MAN=/usr/share/man/man8/ganeti-confd.ganeti.8.gz
DROPIN=/usr/lib/systemd/system/ganeti-confd.service.d/goconfd.conf

say() { echo "goconfd: $*" >&2; }

# diverted_by_us: Ganeti's binary is diverted by this package.
diverted_by_us() {
	[ "$(dpkg-divert --listpackage "$GANETI_BIN" 2>/dev/null)" = goconfd ]
}

# fail_point NAME: lets the package tests stop a script at a chosen step
# (GOCONFD_MAINT_FAIL=NAME in dpkg's environment), to prove that a script
# failing halfway leaves a working binary. Unset, it does nothing.
fail_point() {
	if [ "${GOCONFD_MAINT_FAIL:-}" = "$1" ]; then
		say "failing at $1 as GOCONFD_MAINT_FAIL asks"
		exit 1
	fi
}

# systemd_running: the node boots with systemd (not a chroot, not sysv).
systemd_running() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

# restart_if_running: restart a running confd onto the binary now in
# place, the way it was started (systemd, else Ganeti's daemon-util). A
# stopped confd stays stopped; a failed restart is reported, not fatal:
# the binary is in place and the next start uses it.
restart_if_running() {
	if systemd_running; then
		systemctl daemon-reload || true
		if systemctl is-active --quiet ganeti-confd.service; then
			systemctl restart ganeti-confd.service ||
				say "restarting ganeti-confd failed; run: systemctl restart ganeti-confd"
		fi
	elif [ -x /usr/lib/ganeti/daemon-util ] &&
		/usr/lib/ganeti/daemon-util check ganeti-confd >/dev/null 2>&1; then
		{ /usr/lib/ganeti/daemon-util stop ganeti-confd &&
			/usr/lib/ganeti/daemon-util start ganeti-confd; } ||
			say "restarting ganeti-confd failed; run: /usr/lib/ganeti/daemon-util start ganeti-confd"
	fi
}

# put_ours: goconfd's binary at Ganeti's path, by rename. Returns 0 when
# it changed what is there.
put_ours() {
	if cmp -s "$OUR_BIN" "$GANETI_BIN"; then
		return 1
	fi
	cp -p "$OUR_BIN" "$GANETI_BIN.goconfd-new"
	fail_point before-rename
	mv -f "$GANETI_BIN.goconfd-new" "$GANETI_BIN"
}

# take_over: on a node with Ganeti 3.0, divert Ganeti's binary and put
# goconfd's in its place; refresh it on upgrades and triggers; if Ganeti
# went away while diverted, tidy up. Without Ganeti it does nothing.
take_over() {
	rm -f "$GANETI_BIN.goconfd-new"
	if diverted_by_us; then
		if [ ! -e "$SAVED_BIN" ]; then
			# ganeti-haskell-3.0 was removed: its binary went with it.
			rm -f "$GANETI_BIN"
			dpkg-divert --package goconfd --no-rename --remove --divert "$SAVED_BIN" "$GANETI_BIN" >/dev/null
			say "Ganeti 3.0 is gone; goconfd stays at $OUR_BIN"
			return 0
		fi
		if put_ours; then
			say "updated goconfd's ganeti-confd at $GANETI_BIN"
			restart_if_running
		fi
		return 0
	fi
	[ -e "$GANETI_BIN" ] || return 0
	# Ganeti's binary gets its second name first (a hard link: both names
	# work), then the divert is recorded, then ours replaces the first
	# name in one rename. A failure at any step leaves a working binary
	# at Ganeti's path, and give_back can undo what was done.
	cp -p "$OUR_BIN" "$GANETI_BIN.goconfd-new"
	ln -f "$GANETI_BIN" "$SAVED_BIN"
	dpkg-divert --package goconfd --no-rename --add --divert "$SAVED_BIN" "$GANETI_BIN" >/dev/null
	fail_point after-divert
	mv -f "$GANETI_BIN.goconfd-new" "$GANETI_BIN"
	say "diverted Ganeti's ganeti-confd to $SAVED_BIN; goconfd serves in its place"
	restart_if_running
}

# give_back: Ganeti's binary back at its path (one rename over ours), the
# divert removed, the notify drop-in removed (Ganeti's binary does not
# notify), and a running confd restarted onto Ganeti's binary.
give_back() {
	rm -f "$GANETI_BIN.goconfd-new"
	diverted_by_us || return 0
	if [ "$SAVED_BIN" -ef "$GANETI_BIN" ]; then
		# take_over stopped between the link and the rename: Ganeti's
		# binary is still at its path; only the second name goes.
		rm -f "$SAVED_BIN"
	elif [ -e "$SAVED_BIN" ]; then
		mv -f "$SAVED_BIN" "$GANETI_BIN"
	fi
	dpkg-divert --package goconfd --no-rename --remove --divert "$SAVED_BIN" "$GANETI_BIN" >/dev/null
	rm -f "$DROPIN"
	say "gave Ganeti's ganeti-confd back at $GANETI_BIN"
	restart_if_running
}

# divert_man / undivert_man: Ganeti's man page (a symlink in the "ganeti"
# package) moves aside while goconfd's is installed.
divert_man() {
	dpkg-divert --package goconfd --add --rename --divert "$SAVED_MAN" "$MAN_PAGE" >/dev/null
}
undivert_man() {
	if [ "$(dpkg-divert --listpackage "$MAN_PAGE" 2>/dev/null)" = goconfd ]; then
		dpkg-divert --package goconfd --remove --rename --divert "$SAVED_MAN" "$MAN_PAGE" >/dev/null
	fi
}
