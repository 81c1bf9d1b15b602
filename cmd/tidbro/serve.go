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
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/api"
	"github.com/tidbro/tidbro/davserver"
	"github.com/tidbro/tidbro/engine"
	"github.com/tidbro/tidbro/graph"
	"github.com/tidbro/tidbro/metrics"
	"github.com/tidbro/tidbro/scheduler"
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
	tlsCert := fs.String("tls-cert", os.Getenv("TIDBRO_TLS_CERT"), "serve HTTPS with this certificate (PEM, chain included; env TIDBRO_TLS_CERT)")
	tlsKey := fs.String("tls-key", os.Getenv("TIDBRO_TLS_KEY"), "the certificate's private key (PEM; env TIDBRO_TLS_KEY)")
	lease := fs.Duration("lease", durationEnv("TIDBRO_LEASE", scheduler.DefaultLease), "how long a pair stays with an instance that stops renewing (env TIDBRO_LEASE)")
	retry := fs.Duration("retry", durationEnv("TIDBRO_RETRY", 30*time.Second), "first wait after a failed run; doubles per failure up to an hour (env TIDBRO_RETRY)")
	noSync := fs.Bool("no-sync", os.Getenv("TIDBRO_NO_SYNC") == "true", "serve the API and DAV only; run no synchronisation here (env TIDBRO_NO_SYNC=true)")
	publicURL := fs.String("public-url", os.Getenv("TIDBRO_PUBLIC_URL"), "the https:// URL groupware reaches this server at, for change notifications (Microsoft Graph); without it groupware is polled (env TIDBRO_PUBLIC_URL)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	notify, err := notificationURLs(*publicURL)
	if err != nil {
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
	useStore(store)
	reg := &metrics.Registry{}
	remoteHTTP.Transport = &metrics.Transport{
		Base:      remoteTransport,
		Latency:   reg.Histogram("tidbro_remote_request_duration_seconds", "Requests to groupware servers, by method and status class.", metrics.DurationBuckets, "method", "status"),
		Throttled: reg.Counter("tidbro_remote_throttled_total", "429 answers from groupware servers, by host.", "host"),
	}
	sched := &scheduler.Scheduler{Store: store, Engine: &engine.Engine{Store: store, Connect: connect, Log: log, Notify: notify}, Log: log,
		Metrics: scheduler.NewMetrics(reg, store), Lease: *lease, RetryMin: *retry}
	srv := &http.Server{
		Handler:           handler(store, log, reg, &graph.Notifications{Store: store, Wake: sched.Wake, Log: log}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("tidbro serving", "addr", ln.Addr().String(), "tls", *tlsCert != "", "version", versionString(), "data", db.data,
		"notifications", notify.NotificationURL)
	if strings.HasPrefix(notify.NotificationURL, "http://") {
		log.Warn("Microsoft Graph delivers change notifications to https URLs only; with an http --public-url its subscriptions fail and Graph pairs are polled")
	}
	schedCtx, stopSched := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSched()
	var schedDone chan error // nil, and never ready, without a scheduler
	if !*noSync {
		schedDone = make(chan error, 1)
		go func() { schedDone <- sched.Run(schedCtx) }()
	}
	// Runs in flight stop where they are; the engine resumes them on the
	// next run, here or on another instance.
	stopScheduler := func() {
		stopSched()
		if schedDone != nil {
			<-schedDone
		}
	}
	done := make(chan error, 1)
	go func() {
		if *tlsCert != "" {
			done <- srv.ServeTLS(ln, *tlsCert, *tlsKey)
			return
		}
		done <- srv.Serve(ln)
	}()
	select {
	case err := <-done:
		stopScheduler()
		return err
	case err := <-schedDone: // only a failure at start-up ends it early
		srv.Close()
		return fmt.Errorf("scheduler: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	stopScheduler()
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

// durationEnv reads a duration from the environment, else def.
func durationEnv(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(key)); err == nil && d > 0 {
		return d
	}
	return def
}

// Where Graph sends change and lifecycle notifications, under --public-url.
const (
	graphNotificationsPath = "/webhooks/graph"
	graphLifecyclePath     = "/webhooks/graph/lifecycle"
)

// notificationURLs derives the notification endpoints from --public-url
// ("" leaves notifications off).
func notificationURLs(public string) (tidbro.SubscriptionRequest, error) {
	if public == "" {
		return tidbro.SubscriptionRequest{}, nil
	}
	u, err := url.Parse(public)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return tidbro.SubscriptionRequest{}, fmt.Errorf("--public-url %q is not an http(s) URL without a query", public)
	}
	base := strings.TrimSuffix(u.String(), "/")
	return tidbro.SubscriptionRequest{NotificationURL: base + graphNotificationsPath, LifecycleURL: base + graphLifecyclePath}, nil
}

// handler serves the REST API, the DAV server under /dav/ with the RFC
// 6764 redirects, and the groupware notification endpoints, on one port.
func handler(store tidbro.Store, log *slog.Logger, reg *metrics.Registry, notifications http.Handler) http.Handler {
	served := reg.Histogram("tidbro_http_request_duration_seconds", "Requests tidbro served, by area (dav, api, graph), method and status class.",
		metrics.DurationBuckets, "area", "method", "status")
	dav := served.Served("dav", davserver.New(store, davserver.Options{Logger: log}))
	notifications = served.Served("graph", notifications)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", reg)
	// Unauthenticated: Graph proves itself with each subscription's secret.
	mux.Handle("POST "+graphNotificationsPath, notifications)
	mux.Handle("POST "+graphLifecyclePath, notifications)
	mux.Handle(davserver.Prefix, dav)
	mux.Handle("/.well-known/caldav", dav)
	mux.Handle("/.well-known/carddav", dav)
	mux.Handle("/", served.Served("api", api.New(store, api.Options{Logger: log, Version: versionString()})))
	return mux
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
