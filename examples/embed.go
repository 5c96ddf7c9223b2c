package examples

import _ "embed" // for go:embed

// Config is config.data: the demo cluster's configuration, as Ganeti 3.0
// writes it.
//
//go:embed config.data
var Config string

// Key is hmac.key: the demo cluster's HMAC key, 40 hex digits and a
// newline (the newline is part of the key).
//
//go:embed hmac.key
var Key string
