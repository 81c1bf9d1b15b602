package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
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

// BenchmarkPutItem measures PutItem: "update" rewrites 1000 events in
// turn, one writer at a time; "create" creates new events with
// IfNoneMatch, 8 writers at a time, as the DAV server's clients do. Both
// report the process's CPU time per write, which fsync's waits do not
// blur.
//
//	go test ./sqlite -run XXX -bench PutItem
func BenchmarkPutItem(b *testing.B) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	event := func(tenantID, ownerID int64, i int) *tidbro.Item {
		return &tidbro.Item{TenantID: tenantID, OwnerID: ownerID, Kind: tidbro.KindEvent, AppID: fmt.Sprintf("e%d", i),
			ChangedBy: tidbro.OriginApp, Event: &tidbro.Event{Summary: fmt.Sprint(i), Start: start, End: start.Add(time.Hour)}}
	}
	b.Run("update", func(b *testing.B) {
		s, tn, u := benchStore(b)
		cpu0 := cpuTime(b)
		i := 0
		for b.Loop() {
			if _, _, err := s.PutItem(b.Context(), event(tn.ID, u.ID, i%1000), tidbro.Precondition{}); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	})
	b.Run("create", func(b *testing.B) {
		s, tn, u := benchStore(b)
		var next atomic.Int64
		cpu0 := cpuTime(b)
		b.SetParallelism(4)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, err := s.PutItem(context.Background(), event(tn.ID, u.ID, int(next.Add(1))), tidbro.Precondition{IfNoneMatch: true}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	})
}

// benchStore opens a store with a tenant and a user.
func benchStore(b *testing.B) (*sqlstore.Store, *tidbro.Tenant, *tidbro.User) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), storetest.Sealer{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	tn, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		b.Fatal(err)
	}
	u := &tidbro.User{TenantID: tn.ID, Username: "alice"}
	if _, err := s.PutUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	return s, tn, u
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
