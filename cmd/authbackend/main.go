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

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	app, err := build(ctx, configs, logger, modules())
	if err != nil {
		logger.Error("cannot start", "error", err.Error())
		// The JSON line escapes newlines and quotes; a list of config problems is easier
		// to read as plain lines.
		fmt.Fprintln(stderr, err.Error())
		return 1
	}
	defer app.close()

	addr := net.JoinHostPort(app.cfg.Backend.Listen.Host, strconv.Itoa(app.cfg.Backend.Listen.Port))
	ln, err := net.Listen("tcp", addr)
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
	logger.Info("listening", "addr", ln.Addr().String(), "auth", app.cfg.AuthBaseURL(),
		"startup", time.Since(start).Round(time.Microsecond).String())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		logger.Error("server stopped", "error", err)
		return 1
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("graceful shutdown incomplete", "error", err)
	}
	return 0
}
