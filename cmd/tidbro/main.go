// Command tidbro is the tidbro server and its administration tool.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/postgres"
	"github.com/tidbro/tidbro/secret"
	"github.com/tidbro/tidbro/sqlite"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

const usage = `tidbro keeps a business application's calendars, tasks and contacts in step
with its users' groupware.

Usage:
  tidbro serve [--addr HOST:PORT] [--data DIR] [--db URL] [--tls-cert F --tls-key F]
  tidbro version
  tidbro user add USERNAME [--email E] [--name N] [--tz ZONE] [--tenant T]
  tidbro user list [--tenant T]
  tidbro token create [--name N] [--tenant T]
  tidbro token list [--tenant T]
  tidbro token revoke ID [--tenant T]
  tidbro tenant add NAME
  tidbro tenant list
  tidbro sync [--user U] [--account A] [--kind K] [--full] [--since DATE] [--dry-run]
  tidbro log USERNAME [--limit N]
  tidbro app-password create USERNAME [--name N] [--tenant T]
  tidbro app-password list USERNAME [--tenant T]
  tidbro app-password revoke USERNAME ID [--tenant T]

Every command that touches the database takes --data and --db (env
TIDBRO_DATA, TIDBRO_DB) and is safe to run while serve runs.
Run "tidbro COMMAND -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "tidbro:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "tidbro %s (%s %s/%s)\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	case "user":
		return userCmd(ctx, rest, stdout, stderr)
	case "token":
		return tokenCmd(ctx, rest, stdout, stderr)
	case "tenant":
		return tenantCmd(ctx, rest, stdout, stderr)
	case "sync":
		return syncCmd(ctx, rest, stdout, stderr)
	case "log":
		return logCmd(ctx, rest, stdout, stderr)
	case "app-password":
		return appPasswordCmd(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// dbFlags are the flags every database command shares.
type dbFlags struct {
	data string
	db   string
}

func (f *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", envOr("TIDBRO_DATA", "./tidbro-data"), "data directory (env TIDBRO_DATA)")
	fs.StringVar(&f.db, "db", os.Getenv("TIDBRO_DB"), "database: a SQLite file path or postgres://... (env TIDBRO_DB; default DATA/tidbro.db)")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// open opens the configured store; the data directory holds the secret key
// (unless TIDBRO_SECRET_KEY is set) and, by default, the SQLite database.
func (f *dbFlags) open(ctx context.Context) (tidbro.Store, error) {
	if err := os.MkdirAll(f.data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	box, err := secret.Load(f.data)
	if err != nil {
		return nil, err
	}
	db := f.db
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return postgres.Open(ctx, db, box)
	}
	if db == "" {
		db = filepath.Join(f.data, "tidbro.db")
	}
	return sqlite.Open(ctx, strings.TrimPrefix(db, "sqlite://"), box)
}

// newLogger logs text to a terminal and JSON otherwise (for log collectors).
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}

// parse parses a subcommand's flags, allowing flags after positional
// arguments ("user add alice --email a@x").
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
