package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/gctune"
)

func main() {
	// Process-wide: gin's debug mode prints every route to stdout.
	gin.SetMode(gin.ReleaseMode)
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "validate" {
		os.Exit(validate(args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(run(args, os.Stderr))
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func run(args []string, stderr io.Writer) int {
	start := time.Now()
	fs := flag.NewFlagSet("authbackend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: authbackend [--config FILE]... [--log-level LEVEL]\n       authbackend validate [--config FILE]...\n")
		fs.PrintDefaults()
	}
	var configs stringList
	fs.Var(&configs, "config", "config file (repeatable; later files override earlier ones)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(stderr, "invalid --log-level %q\n", *level)
		return 2
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	defer gctune.Start(os.Getenv, 0).Stop()

	// Signals during start-up cancel it (a database that never answers); afterwards
	// they start the drain, from the channel (which also keeps one that arrived during
	// start-up).
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	app, err := build(ctx, configs, logger, modules())
	stop()
	if err != nil {
		logger.Error("cannot start", "error", err.Error())
		// The JSON line escapes newlines and quotes; a list of config problems is easier
		// to read as plain lines.
		fmt.Fprintln(stderr, err.Error())
		return 1
	}
	defer app.close()

	addr := net.JoinHostPort(app.cfg.Backend.Listen.Host, strconv.Itoa(app.cfg.Backend.Listen.Port))
	ln, err := listen(addr)
	if err != nil {
		logger.Error("cannot listen", "addr", addr, "error", err)
		fmt.Fprintf(stderr, "cannot listen on %s: %v\n", addr, err)
		return 1
	}
	srv := &http.Server{
		Handler:           app.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	metricsSrv, metricsAddr, err := app.obs.StartMetrics(app.cfg.Ops.MetricsListen, logger)
	if err != nil {
		_ = ln.Close()
		logger.Error("cannot listen for metrics", "addr", app.cfg.Ops.MetricsListen, "error", err)
		fmt.Fprintf(stderr, "cannot listen on authbackend.metrics.listen %s: %v\n", app.cfg.Ops.MetricsListen, err)
		return 1
	}
	attrs := []any{"addr", ln.Addr().String(), "auth", app.cfg.AuthBaseURL(),
		"startup", time.Since(start).Round(time.Microsecond).String()}
	if metricsSrv != nil {
		attrs = append(attrs, "metrics", metricsAddr)
	}
	logger.Info("listening", attrs...)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var sig os.Signal
	select {
	case err := <-errc:
		logger.Error("server stopped", "error", err)
		return 1
	case sig = <-sigs:
	}
	code := drain(app, srv, sig, sigs, logger)
	if metricsSrv != nil {
		_ = metricsSrv.Close()
	}
	return code
}

// drain shuts the server down gracefully: readiness answers 503 at once and
// keep-alive connections are closed after their current request; on SIGTERM the
// server goes on serving for authbackend.shutdown.delay (so a load balancer that polls
// readiness stops sending first); then the listener closes and in-flight requests
// have authbackend.shutdown.gracePeriod to finish. Liveness answers 200 throughout. A
// second signal stops waiting.
func drain(app *app, srv *http.Server, sig os.Signal, sigs <-chan os.Signal, logger *slog.Logger) int {
	app.server.Drain()
	srv.SetKeepAlivesEnabled(false)
	delay, grace := app.cfg.Ops.ShutdownDelay, app.cfg.Ops.ShutdownGracePeriod
	if sig != syscall.SIGTERM {
		delay = 0
	}
	logger.Info("shutting down", "signal", sig.String(), "delay", delay.String(), "gracePeriod", grace.String())
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-sigs:
			logger.Warn("second signal: stopping without waiting")
			_ = srv.Close()
			return 1
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			logger.Warn("grace period over: closing the connections of unfinished requests", "error", err)
			_ = srv.Close()
		}
	case <-sigs:
		logger.Warn("second signal: closing the connections of unfinished requests")
		_ = srv.Close()
		return 1
	}
	logger.Info("stopped")
	return 0
}

func listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
