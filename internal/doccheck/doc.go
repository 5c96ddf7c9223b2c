// Package doccheck holds tests only: they keep the project's documents
// and the code that cites them in step. Comments all over the repository
// cite sections of docs/protocol.md ("docs/protocol.md §3.11"); the tests
// fail when a cited section has no heading there, so that renumbering the
// document, or citing a section that was never written, is caught by
// go test. docs/architecture.md's table of packages, with what each
// imports and the rule that a package imports only those listed below
// it, is checked against the go command's import graph.
package doccheck
