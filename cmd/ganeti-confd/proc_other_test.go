//go:build !linux

package main

import "time"

// The process tests are Linux-only; these keep the shared helpers
// compiling elsewhere.

func mountHelper() {}

func waitGone(pid int, timeout time.Duration) bool { return false }
