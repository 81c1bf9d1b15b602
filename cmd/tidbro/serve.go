package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/api"
)

// AdminTokenFile holds the admin API token written on first start.
const AdminTokenFile = "admin-token"

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var db dbFlags
	db.register(fs)
	addr := fs.String("addr", envOr("TIDBRO_ADDR", "127.0.0.1:8080"), "listen address HOST:PORT (env TIDBRO_ADDR)")
	logLevel := fs.String("log-level", envOr("TIDBRO_LOG_LEVEL", "info"), "debug, info, warn or error (env TIDBRO_LOG_LEVEL)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	store, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := bootstrap(ctx, store, db.data, log); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           api.New(store, api.Options{Logger: log, Version: versionString()}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("tidbro serving", "addr", ln.Addr().String(), "version", versionString(), "data", db.data)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// bootstrap makes a new installation usable: the default tenant, and an
// admin token in DATA/admin-token (0600) unless that file exists.
func bootstrap(ctx context.Context, store tidbro.Store, dataDir string, log *slog.Logger) error {
	t, err := store.Tenant(ctx, tidbro.DefaultTenant)
	if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
		t, err = store.CreateTenant(ctx, tidbro.DefaultTenant)
		if tidbro.ErrorCode(err) == tidbro.ECONFLICT { // another instance was first
			t, err = store.Tenant(ctx, tidbro.DefaultTenant)
		}
	}
	if err != nil {
		return fmt.Errorf("default tenant: %w", err)
	}
	path := filepath.Join(dataDir, AdminTokenFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	defer f.Close()
	token, hash := tidbro.NewToken()
	if _, err := store.CreateToken(ctx, t.ID, "admin", hash); err != nil {
		os.Remove(path)
		return fmt.Errorf("admin token: %w", err)
	}
	if _, err := f.WriteString(token + "\n"); err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	log.Info("wrote the admin API token", "file", path)
	return nil
}
