//go:build race

package protocol

// raceEnabled: the race detector is on; it allocates on its own, so
// allocation counts are not checked.
const raceEnabled = true
