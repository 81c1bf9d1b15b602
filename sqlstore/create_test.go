package sqlstore_test

import (
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/postgres"
	"github.com/tidbro/tidbro/sqlite"
	"github.com/tidbro/tidbro/sqlstore"
	"github.com/tidbro/tidbro/storetest"
)

// TestCreate checks PutItem with IfNoneMatch, which inserts at once: when
// it cannot, the write tells why as any other write does, and a refused
// create leaves no gap in the items' ids.
func TestCreate(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "tidbro.db"), storetest.Sealer{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		testCreate(t, s)
	})
	t.Run("postgres", func(t *testing.T) { testCreate(t, openPostgres(t)) })
}

// openPostgres opens a store in a schema of its own on the server of
// TIDBRO_TEST_POSTGRES, dropped when the test ends; without one it skips.
func openPostgres(t *testing.T) *sqlstore.Store {
	t.Helper()
	dsn := os.Getenv("TIDBRO_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("skipping: set TIDBRO_TEST_POSTGRES to a PostgreSQL server's URL")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := "tidbro_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal("TIDBRO_TEST_POSTGRES is not a URL")
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	s, err := postgres.Open(t.Context(), u.String(), storetest.Sealer{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testCreate(t *testing.T, s *sqlstore.Store) {
	ctx := t.Context()
	create := tidbro.Precondition{IfNoneMatch: true}
	tn, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateTenant(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]*tidbro.User{}
	for _, u := range []*tidbro.User{{TenantID: tn.ID, Username: "alice"}, {TenantID: tn.ID, Username: "gone"}, {TenantID: other.ID, Username: "olga"}} {
		if _, err := s.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		users[u.Username] = u
	}
	if err := s.DeleteUser(ctx, tn.ID, "gone"); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	event := func(appID string, owner *tidbro.User) *tidbro.Item {
		return &tidbro.Item{TenantID: tn.ID, Kind: tidbro.KindEvent, AppID: appID, Type: "appointment", OwnerID: owner.ID,
			ChangedBy: tidbro.OriginDAVClient, Event: &tidbro.Event{Summary: appID, Start: start, End: start.Add(time.Hour)}}
	}

	v1, changed, err := s.PutItem(ctx, event("e1", users["alice"]), create)
	if err != nil || !changed {
		t.Fatalf("create: changed %v, %v", changed, err)
	}
	if v1.Version != 1 || v1.Owner != "alice" || v1.Origin != tidbro.OriginDAVClient || !v1.Created.Equal(v1.Updated) || v1.Seq == 0 {
		t.Errorf("created %+v", v1)
	}
	if got, err := s.Item(ctx, tn.ID, tidbro.KindEvent, "e1"); err != nil || got.ID != v1.ID || got.Hash != v1.Hash || got.Owner != "alice" {
		t.Errorf("read back %+v, %v; want %+v", got, err, v1)
	}
	cs, err := s.Changes(ctx, tidbro.ChangeQuery{TenantID: tn.ID, Since: v1.Seq - 1})
	if err != nil || len(cs) != 1 || cs[0].Seq != v1.Seq || cs[0].Op != tidbro.OpUpsert || cs[0].Item.ID != v1.ID {
		t.Errorf("feed after the create: %+v, %v", cs, err)
	}
	head, _ := s.Head(ctx, tn.ID)

	for _, c := range []struct {
		what string
		it   *tidbro.Item
		cond tidbro.Precondition
		code string
	}{
		{"a live item", event("e1", users["alice"]), create, tidbro.EPRECONDITION},
		{"no such owner", event("e2", &tidbro.User{ID: users["olga"].ID + 100}), create, tidbro.EINVALID},
		{"a deleted owner", event("e2", users["gone"]), create, tidbro.EINVALID},
		{"an owner of another tenant", event("e2", users["olga"]), create, tidbro.EINVALID},
		{"with IfMatch", event("e2", users["alice"]), tidbro.Precondition{IfNoneMatch: true, IfMatch: 1}, tidbro.EPRECONDITION},
	} {
		if _, _, err := s.PutItem(ctx, c.it, c.cond); tidbro.ErrorCode(err) != c.code {
			t.Errorf("create over %s: %v, want %s", c.what, err, c.code)
		}
	}
	if h, _ := s.Head(ctx, tn.ID); h != head {
		t.Errorf("refused creates moved the head from %d to %d", head, h)
	}

	// A tombstone comes back as its next version, born again.
	del, err := s.DeleteItem(ctx, tn.ID, tidbro.KindEvent, "e1", tidbro.Precondition{}, tidbro.OriginApp)
	if err != nil {
		t.Fatal(err)
	}
	back := event("e1", users["alice"])
	back.ChangedBy = tidbro.OriginApp
	v3, _, err := s.PutItem(ctx, back, create)
	if err != nil || v3.ID != v1.ID || v3.Version != del.Version+1 || v3.Deleted || v3.Origin != tidbro.OriginApp || !v3.Created.After(v1.Created) {
		t.Errorf("revived %+v, %v", v3, err)
	}
	v4, _, err := s.PutItem(ctx, event("e2", users["alice"]), create)
	if err != nil || v4.ID != v1.ID+1 {
		t.Errorf("the next create: %+v, %v; want id %d", v4, err, v1.ID+1)
	}
}
