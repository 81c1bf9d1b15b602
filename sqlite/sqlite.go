// Package sqlite opens the embedded store: one SQLite file, through the pure
// Go driver modernc.org/sqlite.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/sqlstore"
	driver "modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// params set on every connection. WAL lets readers run beside the writer;
// _txlock=immediate makes a write transaction take the write lock at BEGIN,
// so two transactions never deadlock upgrading a read lock, and a tenant's
// writers queue in feed order. synchronous=FULL keeps committed feed
// positions durable across a power loss, as PostgreSQL does by default.
const params = "_journal_mode=WAL&_busy_timeout=10000&_foreign_keys=1&_synchronous=FULL&_txlock=immediate"

// maxConns bounds the pool, and as many connections are kept idle: opening
// one reads the schema and every statement is prepared again on it, which
// costs more than most queries, so a pool that closes connections after a
// burst (database/sql keeps 2 by default) spends its time reopening them.
const maxConns = 16

// Open opens (creating if needed) the database file at path and its parent
// directory, brings its schema up to date and returns the store.
func Open(ctx context.Context, path string, sealer tidbro.Sealer) (*sqlstore.Store, error) {
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: need a database file path, not %q", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// A file: URI, so that any character in path survives escaped.
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(path)}).EscapedPath() + "?" + params
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := setup(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return sqlstore.New(db, sqlstore.SQLite, sealer), nil
}

func setup(ctx context.Context, db *sql.DB) error {
	if err := ping(ctx, db); err != nil {
		return err
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	return sqlstore.Migrate(ctx, db, sqlstore.SQLite, sub)
}

// ping opens the first connection. Turning a new file to WAL needs it to
// itself, and when several processes open a new file at once SQLite answers
// SQLITE_BUSY without waiting for busy_timeout: retry that for a while.
func ping(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := db.PingContext(ctx)
		var se *driver.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
