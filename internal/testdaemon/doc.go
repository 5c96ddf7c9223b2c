// Package testdaemon runs daemons for the tests of goconfd: it builds a
// command once per test binary, picks free loopback UDP ports, starts a
// daemon with its output captured to a file, waits until a probe says it
// is ready, and stops it within a bounded time. It also lays out a Ganeti
// root directory for a confd (the real one or goconfd, which share a
// command line), starts one there (StartConfdWith: extra options and
// environment, goconfd's metrics server on a free port), replaces its
// files as Ganeti does, pings it, and finds the reference installation: the
// real Ganeti 3.0.2 server unpacked by conformance/reference/setup.sh and
// the scripts beside it. For the tests of a daemon's process it fakes
// systemd's notification socket (ListenNotify), rotates a log as
// logrotate does (RotateLog) and reads /proc/PID/status (ProcStatus).
//
// Environment knobs, the same for every package that uses this one:
//
//	GOCONFD_BIN          a prebuilt goconfd daemon instead of building one
//	GOCONFD_CONFORMANCE  "1": a missing reference fails instead of skipping
//	GOCONFD_REF_DIR      the reference scripts (default: conformance/reference
//	                     of the module this test runs in)
//	GANETI_REF_CACHE     where setup.sh unpacked the real server (default as
//	                     in the scripts' env.sh)
//
// Every child process starts from one OS thread that lives as long as the
// test binary, and on Linux the kernel kills the children when that
// thread dies, so a panicking or timed-out test leaves no daemon behind.
//
// The package is for tests only: _test.go files and test helper packages
// (internal/clustergen/reftest) import it, nothing the commands build.
package testdaemon
