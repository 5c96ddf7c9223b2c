// Package soak holds goconfd's tests against a real daemon
// (internal/testdaemon) over time and under stress, and nothing else: the
// soak, mixed load from several clients while config.data is replaced
// every 100 ms as Ganeti writes it, every reply checked against the
// config behind its serial; hostile traffic under load, the flood sent by
// this test binary run again as a process of its own at nice 19 (see
// floodEnv); and faults in the daemon's files and process
// (docs/reliability.md). They run a few seconds by default, longer with
// GOCONFD_SOAK set or with -soak=1m:
//
//	go test -count=1 -v ./internal/soak/ -soak=1m
package soak
