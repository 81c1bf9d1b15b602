package sqlstore_test

import (
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/sqlstore"
	_ "modernc.org/sqlite"
)

func TestRebind(t *testing.T) {
	q := `SELECT a FROM t WHERE b = ? AND (c, d) > (?, ?) LIMIT ?`
	if got := sqlstore.SQLite.Rebind(q); got != q {
		t.Errorf("SQLite rebind changed the query: %s", got)
	}
	want := `SELECT a FROM t WHERE b = $1 AND (c, d) > ($2, $3) LIMIT $4`
	if got := sqlstore.Postgres.Rebind(q); got != want {
		t.Errorf("Postgres rebind = %s, want %s", got, want)
	}
}

func TestMigrations(t *testing.T) {
	ms, err := sqlstore.Migrations(fstest.MapFS{
		"010_later.sql":  {Data: []byte("B")},
		"002_second.sql": {Data: []byte("A")},
		"README.md":      {Data: []byte("not a migration")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Version != 2 || ms[0].Name != "second" || ms[1].Version != 10 || ms[1].SQL != "B" {
		t.Errorf("Migrations = %+v", ms)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"bad name":          {"init.sql": {}},
		"duplicate version": {"001_a.sql": {}, "1_b.sql": {}},
		"version zero":      {"000_a.sql": {}},
	} {
		if _, err := sqlstore.Migrations(fsys); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestMigrate(t *testing.T) {
	ctx := t.Context()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(table string) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	v1 := fstest.MapFS{"001_t.sql": {Data: []byte("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")}}
	for range 2 { // the second run finds nothing to do
		if err := sqlstore.Migrate(ctx, db, sqlstore.SQLite, v1); err != nil {
			t.Fatal(err)
		}
	}
	if n := count("t"); n != 1 {
		t.Errorf("migration ran %d times", n)
	}

	// A failing migration leaves nothing behind and is not recorded.
	v2 := fstest.MapFS{
		"001_t.sql":   v1["001_t.sql"],
		"002_bad.sql": {Data: []byte("INSERT INTO t VALUES (2); SELECT * FROM missing;")},
	}
	if err := sqlstore.Migrate(ctx, db, sqlstore.SQLite, v2); err == nil || !strings.Contains(err.Error(), "002_bad") {
		t.Errorf("failing migration: %v", err)
	}
	if n, m := count("t"), count("schema_migrations"); n != 1 || m != 1 {
		t.Errorf("after a failed migration: %d rows in t, %d migrations recorded; want 1, 1", n, m)
	}

	v2["002_bad.sql"] = &fstest.MapFile{Data: []byte("INSERT INTO t VALUES (2);")}
	if err := sqlstore.Migrate(ctx, db, sqlstore.SQLite, v2); err != nil {
		t.Fatal(err)
	}
	// A program that knows fewer migrations than the database refuses it.
	if err := sqlstore.Migrate(ctx, db, sqlstore.SQLite, v1); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("older program on a newer schema: %v", err)
	}
}

// TestScheduleMigration upgrades a database that has pairs: migration 004
// gives each a schedule, due at once.
func TestScheduleMigration(t *testing.T) {
	ctx := t.Context()
	all := os.DirFS("../sqlite/migrations")
	before := fstest.MapFS{}
	for _, name := range []string{"001_init.sql", "002_sync.sql", "003_dav.sql"} {
		b, err := fs.ReadFile(all, name)
		if err != nil {
			t.Fatal(err)
		}
		before[name] = &fstest.MapFile{Data: b}
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db")+"?_txlock=immediate&_foreign_keys=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlstore.Migrate(ctx, db, sqlstore.SQLite, before); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO tenants (id, name, created) VALUES (1, 'acme', 0)`,
		`INSERT INTO users (id, tenant_id, username, created, updated) VALUES (1, 1, 'alice', 0, 0)`,
		`INSERT INTO accounts (id, tenant_id, user_id, name, kind, policy, created, updated) VALUES (1, 1, 1, 'work', 'caldav', '{}', 0, 0)`,
		`INSERT INTO pairs (id, tenant_id, account_id, user_id, kind, created) VALUES (7, 1, 1, 1, 'event', 0), (9, 1, 1, 1, 'contact', 0)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := sqlstore.Migrate(ctx, db, sqlstore.SQLite, all); err != nil {
		t.Fatal(err)
	}
	s := sqlstore.New(db, sqlstore.SQLite, nil)
	for _, id := range []int64{7, 9} {
		if sch, err := s.Schedule(ctx, id); err != nil || *sch != (tidbro.PairSchedule{PairID: id}) {
			t.Errorf("schedule of pair %d after the migration = %+v, %v", id, sch, err)
		}
	}
	claimed, err := s.ClaimPairs(ctx, "x", time.Now(), time.Minute, 10)
	if err != nil || len(claimed) != 2 {
		t.Errorf("ClaimPairs after the migration = %v, %v; want both pairs", claimed, err)
	}
}
