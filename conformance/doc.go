// Package conformance is goconfd's datagram-level conformance harness: it
// sends the same signed datagrams to the real Ganeti 3.0.2 ganeti-confd and
// to goconfd and fails on any difference between their replies that is not
// listed as documented (docs/protocol.md is the specification).
//
// Everything lives in the package's tests; the request builder and the
// reply checker are written here with crypto/hmac on purpose, without
// goconfd's protocol package, so that a bug there cannot hide itself. See
// README.md for how to run it.
package conformance
