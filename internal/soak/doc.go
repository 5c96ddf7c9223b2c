// Package soak holds goconfd's soak test and nothing else: a real daemon
// (internal/testdaemon) under mixed load from several clients while its
// config.data is replaced every 100 ms as Ganeti writes it, every reply
// checked against the config behind its serial (docs/reliability.md,
// Soak). It runs a few seconds by default, a minute with GOCONFD_SOAK set
// or with -soak=1m:
//
//	go test -count=1 -v ./internal/soak/ -soak=1m
package soak
