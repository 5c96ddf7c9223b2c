// Package doccheck holds tests only: they keep the project's documents
// and the code that cites them in step. Comments all over the repository
// cite sections of docs/protocol.md ("docs/protocol.md §3.11"); the tests
// fail when a cited section has no heading there, so that renumbering the
// document, or citing a section that was never written, is caught by
// go test.
package doccheck
