package main

import (
	"context"
	"log/slog"

	"github.com/goconfd/goconfd/internal/metrics"
	"github.com/goconfd/goconfd/internal/service"
)

// startMetrics binds --metrics-address and serves the metrics, /healthz
// and /status of svc there until ctx ends or stop is called; stop waits
// for the HTTP server to be gone. A bind error is returned, for the
// start-up to fail with it.
func startMetrics(ctx context.Context, addr string, svc *service.Service, log *slog.Logger) (stop func(), err error) {
	ms, err := metrics.Listen(addr, &metrics.Sources{
		Server: svc.Stats, Sockets: svc.Sockets, Buffers: svc.Buffers, Reload: svc.Status, Watch: svc.WatchStats, Version: version,
	}, log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := ms.Serve(ctx); err != nil {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}
