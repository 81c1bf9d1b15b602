package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/postgres"
	"github.com/tidbro/tidbro/sqlstore"
	"github.com/tidbro/tidbro/storetest"
)

const defaultDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// server connects to the test server from TIDBRO_TEST_POSTGRES. Without one
// the tests skip, except in CI (CI=true), which must never skip them.
func server(t *testing.T) (admin *sql.DB, dsn string) {
	t.Helper()
	dsn, where := os.Getenv("TIDBRO_TEST_POSTGRES"), "TIDBRO_TEST_POSTGRES"
	if dsn == "" {
		dsn, where = defaultDSN, defaultDSN
	}
	admin, err := sql.Open("pgx", dsn)
	if err == nil {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err = admin.PingContext(ctx); err != nil {
			admin.Close()
		}
	}
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("PostgreSQL at %s is unreachable, and CI must not skip its tests: %v", where, err)
		}
		t.Skipf("skipping: PostgreSQL at %s is unreachable (set TIDBRO_TEST_POSTGRES to a server's URL): %v", where, err)
	}
	t.Cleanup(func() { admin.Close() })
	return admin, dsn
}

// schema creates an empty schema, dropped when the test ends, and returns
// dsn with its search_path set to it.
func schema(t *testing.T, admin *sql.DB, dsn string) string {
	t.Helper()
	name := "tidbro_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return withSearchPath(t, dsn, name)
}

func withSearchPath(t *testing.T, dsn, schema string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema // key=value form
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal("TIDBRO_TEST_POSTGRES is not a valid URL")
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestStore(t *testing.T) {
	admin, dsn := server(t)
	storetest.Run(t, func(t *testing.T) tidbro.Store {
		s, err := postgres.Open(t.Context(), schema(t, admin, dsn), storetest.Sealer{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestMigrate starts instances together on one empty schema: the advisory
// lock lets one migrate and the others find the work done.
func TestMigrate(t *testing.T) {
	admin, dsn := server(t)
	dsn = schema(t, admin, dsn)
	stores := make([]*sqlstore.Store, 4)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), dsn, storetest.Sealer{})
			if err != nil {
				t.Errorf("open %d: %v", i, err)
				return
			}
			stores[i] = s
		})
	}
	wg.Wait()
	ms, err := sqlstore.Migrations(os.DirFS("migrations"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stores {
		if s == nil {
			continue
		}
		var n int
		if err := s.DB().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(ms) {
			t.Errorf("schema_migrations has %d rows, want %d", n, len(ms))
		}
		s.Close()
	}
	s, err := postgres.Open(t.Context(), dsn, storetest.Sealer{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	s.Close()
	if _, err := postgres.Open(t.Context(), "postgres://user:hunter2@[::1", storetest.Sealer{}); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open with a broken DSN: %v", err)
	}
}
