// Package config loads Ganeti 3.0's config.data into an immutable,
// indexed Snapshot from which every confd answer is a lookup.
//
// Loading accepts exactly what the 3.0 server's object model accepts
// (src/Ganeti/Objects.hs), normalizes the document as that model writes it
// back (the document CONFIG_QUERY walks), and precomputes what depends on
// the config alone: name and prefix indexes, the link → IP → instance map,
// the node IP lists, per-node DRBD minors, encoded instances and disks.
package config
