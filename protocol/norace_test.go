//go:build !race

package protocol

// raceEnabled: the race detector is off, so allocation counts are the
// real ones.
const raceEnabled = false
