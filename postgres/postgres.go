// Package postgres opens the store in a PostgreSQL database, through pgx's
// database/sql driver.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// maxConns bounds the pool: past it, callers queue in the pool rather than
// run into the server's max_connections. Idle connections are kept up to the
// same number, so that bursts do not reconnect.
const maxConns = 20

// Open connects to the database named by dsn (a postgres:// URL or
// key=value string; a search_path parameter selects the schema), brings its
// schema up to date and returns the store. Instances starting together
// migrate one after the other under an advisory lock.
func Open(ctx context.Context, dsn string, sealer tidbro.Sealer) (*sqlstore.Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		// pgx's parse errors can quote the DSN, password included.
		return nil, fmt.Errorf("postgres: invalid connection string")
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := setup(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return sqlstore.New(db, sqlstore.Postgres, sealer), nil
}

func setup(ctx context.Context, db *sql.DB) error {
	if err := db.PingContext(ctx); err != nil {
		return err
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	return sqlstore.Migrate(ctx, db, sqlstore.Postgres, sub)
}
