// Package daemon makes goconfd's ganeti-confd behave like Ganeti 3.0's on
// the command line and as a process, so that init scripts, systemd units,
// daemon-util, the watcher and logrotate cannot tell them apart
// (docs/protocol.md §7):
//
//   - the command line, parsed as Haskell's System.Console.GetOpt does,
//     with Ganeti's messages and exit codes (options.go);
//   - Ganeti's files under GANETI_ROOTDIR, the bind address and the port
//     (paths.go, addr.go);
//   - the user and group checks (users.go);
//   - detaching, with the parent waiting until the daemon is ready
//     (detach.go);
//   - the pid file with its POSIX lock, the log file that SIGHUP reopens,
//     Ganeti's log line format, syslog, and the start-up and shutdown
//     sequence with its signals (daemon.go, log.go, pidfile.go);
//   - errors worded as Ganeti's Haskell runtime words them (hserror.go).
//
// Where Ganeti 3.0.2 is broken, this package does the sensible thing and
// docs/compatibility.md says so.
package daemon
