package server

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestBufferWants(t *testing.T) {
	tests := []struct {
		recv, send int
		want       bufSizes
	}{
		{0, 0, bufSizes{DefaultRecvBuffer, DefaultSendBuffer}},
		{-1, 0, bufSizes{0, DefaultSendBuffer}},
		{1 << 20, -5, bufSizes{1 << 20, 0}},
	}
	for _, tt := range tests {
		if got := bufferWants(&Config{RecvBuffer: tt.recv, SendBuffer: tt.send}); got != tt.want {
			t.Errorf("bufferWants(%d, %d) = %+v, want %+v", tt.recv, tt.send, got, tt.want)
		}
	}
}

func TestLogBuffers(t *testing.T) {
	want := bufSizes{recv: 4 << 20, send: 4 << 20}
	tests := []struct {
		name  string
		socks []bufSizes
		want  string // the line's level and message start; "" for none
	}{
		{"granted", []bufSizes{{8 << 20, 8 << 20}, {8 << 20, 8 << 20}}, "level=INFO msg=\"socket buffers\" recv=8388608 send=8388608"},
		{"capped by rmem_max", []bufSizes{{212992, 8 << 20}}, "level=WARN msg=\"socket buffers smaller than asked"},
		{"one socket short", []bufSizes{{8 << 20, 8 << 20}, {8 << 20, 212992}}, "level=WARN msg=\"socket buffers smaller than asked"},
		{"unknown (not Linux)", []bufSizes{{}}, ""},
		{"no socket", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			log := slog.New(slog.NewTextHandler(&out, nil))
			var socks []*socket
			for _, b := range tt.socks {
				socks = append(socks, &socket{bufs: b})
			}
			logBuffers(log, want, socks)
			got := out.String()
			if tt.want == "" {
				if got != "" {
					t.Errorf("logged %q, want nothing", got)
				}
				return
			}
			if strings.Count(got, "\n") != 1 || !strings.Contains(got, tt.want) {
				t.Errorf("logged %q, want one line with %q", got, tt.want)
			}
		})
	}
}
