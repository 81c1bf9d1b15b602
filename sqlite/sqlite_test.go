package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/sqlite"
	"github.com/tidbro/tidbro/sqlstore"
	"github.com/tidbro/tidbro/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) tidbro.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "tidbro.db"), storetest.Sealer{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// wantMigrations is the number of migrations the package embeds.
func wantMigrations(t *testing.T) int {
	t.Helper()
	ms, err := sqlstore.Migrations(os.DirFS("migrations"))
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

func migrationCount(t *testing.T, s *sqlstore.Store) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOpen checks that Open creates missing directories, copes with odd
// characters in the path, and migrates once however often and however
// concurrently the file is opened.
func TestOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new dir", "a?b#c.db")
	var wg sync.WaitGroup
	stores := make([]*sqlstore.Store, 4)
	for i := range stores {
		wg.Go(func() {
			s, err := sqlite.Open(t.Context(), path, storetest.Sealer{})
			if err != nil {
				t.Errorf("open %d: %v", i, err)
				return
			}
			stores[i] = s
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	want := wantMigrations(t)
	for _, s := range stores {
		if n := migrationCount(t, s); n != want {
			t.Errorf("schema_migrations has %d rows, want %d", n, want)
		}
		s.Close()
	}
	// Data survives a reopen; the reopen applies nothing.
	s, err := sqlite.Open(t.Context(), path, storetest.Sealer{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateTenant(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(t.Context(), path, storetest.Sealer{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Tenant(t.Context(), "acme"); err != nil {
		t.Errorf("tenant after reopen: %v", err)
	}
	if n := migrationCount(t, s); n != want {
		t.Errorf("schema_migrations has %d rows after reopen, want %d", n, want)
	}
	if _, err := sqlite.Open(t.Context(), "", storetest.Sealer{}); err == nil {
		t.Error("Open with an empty path succeeded")
	}
}

func BenchmarkPutItem(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), storetest.Sealer{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tn, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		b.Fatal(err)
	}
	u := &tidbro.User{TenantID: tn.ID, Username: "alice"}
	if _, err := s.PutUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	i := 0
	for b.Loop() {
		it := &tidbro.Item{TenantID: tn.ID, OwnerID: u.ID, Kind: tidbro.KindEvent, AppID: fmt.Sprintf("e%d", i%1000),
			ChangedBy: tidbro.OriginApp, Event: &tidbro.Event{Summary: fmt.Sprint(i), Start: start, End: start.Add(time.Hour)}}
		if _, _, err := s.PutItem(ctx, it, tidbro.Precondition{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
