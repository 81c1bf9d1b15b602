package sqlstore_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

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
