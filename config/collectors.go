package config

import (
	"strconv"

	"github.com/goconfd/goconfd/internal/tjson"
)

// The six built-in data collectors of Ganeti 3.0 (src/Ganeti/DataCollectors.hs),
// in ascending name order, which is how their container is written.
var dataCollectors = []string{"cpu-avg-load", "diskstats", "drbd", "inst-status-xen", "lv", "xen-cpu-avg-load"}

// defaultCollectorInterval is MOND_TIME_INTERVAL (5 s) in microseconds.
const defaultCollectorInterval = 5000000

func dataCollectorsJSON(cluster *tjson.Value) []byte {
	xen := false
	for _, h := range arrMember(cluster, "enabled_hypervisors") {
		if h.Str == "xen-pvm" || h.Str == "xen-hvm" {
			xen = true
		}
	}
	conf := member(cluster, "data_collectors")
	out := []byte{'{'}
	for i, name := range dataCollectors {
		active, interval := true, []byte(strconv.Itoa(defaultCollectorInterval))
		if c, ok := getMember(conf, name); ok {
			active = boolMember(c, "active")
			if iv, ok := c.Get("interval"); ok && iv.Kind == tjson.Number {
				interval = []byte(iv.Str)
			}
		}
		if name == "inst-status-xen" {
			active = active && xen
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = tjson.AppendString(out, name)
		out = append(out, `:{"active":`...)
		out = strconv.AppendBool(out, active)
		out = append(out, `,"interval":`...)
		out = append(out, interval...)
		out = append(out, '}')
	}
	return append(out, '}')
}
