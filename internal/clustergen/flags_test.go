package clustergen

import (
	"flag"
	"io"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"1000", 1000, false},
		{"64K", 64 << 10, false},
		{"1.5MB", 3 << 19, false},
		{"50MiB", 50 << 20, false},
		{"2g", 2 << 30, false},
		{"10 MB", 10 << 20, false},
		{"", 0, true},
		{"-1M", 0, true},
		{"lots", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(o Options) bool
		wantErr bool
	}{
		{"none: the defaults", nil, func(o Options) bool { return o.Seed == Default().Seed && o.Nodes == Default().Nodes }, false},
		{"demo", []string{"-demo"}, func(o Options) bool { return o.ClusterName == Demo().ClusterName && o.Indent == Demo().Indent }, false},
		{"demo with a flag over it", []string{"-demo", "-seed", "9"}, func(o Options) bool { return o.ClusterName == Demo().ClusterName && o.Seed == 9 }, false},
		{"counts and switches", []string{"-seed", "7", "-nodes", "100", "-instances", "2000", "-groups", "4", "-links", "3", "-networks", "2", "-ipv6", "-non-ascii", "-ascii-only", "-omit-optional"},
			func(o Options) bool {
				return o.Seed == 7 && o.Nodes == 100 && o.Instances == 2000 && o.NodeGroups == 4 && o.Links == 3 && o.Networks == 2 &&
					o.IPv6 && o.NonASCII && o.ASCIIOnly && o.OmitOptional
			}, false},
		{"size derives the nodes", []string{"-size", "1MB"}, func(o Options) bool { return o.TargetSize == 1<<20 && o.Nodes == 0 }, false},
		{"size keeps given nodes", []string{"-size", "1MB", "-nodes", "12"}, func(o Options) bool { return o.TargetSize == 1<<20 && o.Nodes == 12 }, false},
		{"bad size", []string{"-size", "big"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("clustergen", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			options := Flags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			o, err := options()
			if (err != nil) != tt.wantErr {
				t.Fatalf("options() error %v, want an error %v", err, tt.wantErr)
			}
			if tt.check != nil && !tt.check(o) {
				t.Errorf("options %+v", o)
			}
		})
	}
}
