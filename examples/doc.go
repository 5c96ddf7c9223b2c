// Package examples holds the demo cluster that lets goconfd run out of a
// fresh clone with no Ganeti installed: config.data (a Ganeti 3.0
// configuration), hmac.key and a README describing both. The package
// embeds both files (Config, Key) for the demo command, examples/demo;
// its test checks that config.data and the README agree.
//
// config.data is clustergen.Demo(), regenerated with:
//
//	go generate ./examples
package examples

//go:generate go run ../internal/clustergen/cmd/clustergen -demo -o config.data
