// Test oracle. Nothing but tests uses this file.
//
// normalizeDocument is the walker in copy mode (oracleCopy): it
// leaves its input alone and builds the normalized document beside it,
// the plain reading of the object model against which the tests hold
// what the daemon runs (the walker in place over a lazily parsed
// document, Loader.Parse): golden files, reference configs and the
// schema cases all go through it, and TestNormalizeOwnedMatches and
// loader_test.go compare the two. normalizeOwned is the same walk in place
// over a whole tree.

package config

import (
	"github.com/goconfd/goconfd/internal/tjson"
)

// normalizeDocument checks the parsed config.data doc against the object
// model of Ganeti 3.0.2 and returns the document that model writes back,
// which is what CONFIG_QUERY walks (docs/protocol.md §3.11, §5.2): defaults
// filled in, optional members that are absent left out, empty static
// states dropped, numbers renormalized, tag sets sorted, maps in key order
// and object members in declaration order. It refuses exactly what the
// real server refuses, with the first error in the order the Haskell
// parser checks (fields in declaration order, unknown keys after the known
// ones), as a *SchemaError.
//
// The result shares strings with doc, and every part of doc that is
// already normalized (for a config that Ganeti 3.0 wrote, nearly all of
// it): doc must not be modified afterwards.
func normalizeDocument(doc *tjson.Value) (tjson.Value, error) {
	w := walker{oracleCopy: true}
	w.path = w.pathBuf[:0]
	return w.walk(configSchema, doc)
}

// normalizeOwned is normalizeDocument for a doc that nothing else uses
// (Parse's): the parts that change are written over doc's own, so that
// a load holds one tree instead of two. doc must not be used afterwards.
// doc must be a tree (no slice reachable twice), as tjson.Parse builds.
func normalizeOwned(doc *tjson.Value) (tjson.Value, error) {
	var w walker // in place, as the daemon walks
	w.path = w.pathBuf[:0]
	return w.walk(configSchema, doc)
}
