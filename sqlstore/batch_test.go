package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"modernc.org/sqlite"
)

// commitCounters count, by database path, the transactions SQLite itself
// commits on connections to that file.
var (
	commitCounters sync.Map // path → *atomic.Int64
	hookOnce       sync.Once
)

func countCommits(t *testing.T, path string) *atomic.Int64 {
	hookOnce.Do(func() {
		sqlite.RegisterConnectionHook(func(conn sqlite.ExecQuerierContext, dsn string) error {
			var n *atomic.Int64
			commitCounters.Range(func(k, v any) bool {
				if strings.Contains(dsn, k.(string)) {
					n = v.(*atomic.Int64)
				}
				return n == nil
			})
			if n == nil {
				return nil
			}
			hooks, ok := conn.(sqlite.HookRegisterer)
			if !ok {
				return fmt.Errorf("connection %T takes no commit hook", conn)
			}
			hooks.RegisterCommitHook(func() int32 { n.Add(1); return 0 })
			return nil
		})
	})
	n := &atomic.Int64{}
	commitCounters.Store(path, n)
	t.Cleanup(func() { commitCounters.Delete(path) })
	return n
}

// openSQLite opens a migrated SQLite store, with the parameters package
// sqlite uses that matter here, and counts its commits.
func openSQLite(t *testing.T) (*Store, *atomic.Int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "batch.db")
	commits := countCommits(t, path)
	db, err := sql.Open("sqlite", "file:"+path+"?_journal_mode=WAL&_foreign_keys=1&_synchronous=FULL&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	if err := Migrate(t.Context(), db, SQLite, os.DirFS("../sqlite/migrations")); err != nil {
		t.Fatal(err)
	}
	s := New(db, SQLite, nil)
	t.Cleanup(func() { s.Close() })
	return s, commits
}

// waitQueued waits until n writers wait in s's queue.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	for {
		s.mu.Lock()
		queued := len(s.queue)
		s.mu.Unlock()
		if queued == n {
			return
		}
		if queued > n {
			t.Fatalf("%d writers queued, want %d", queued, n)
		}
		runtime.Gosched()
	}
}

// TestGroupCommit queues writers while the writer slot is taken, then lets
// them go: they commit in one physical transaction, and the one that fails,
// the one that panics and the one whose context ends while it waits affect
// no other.
func TestGroupCommit(t *testing.T) {
	ctx := t.Context()
	s, commits := openSQLite(t)
	tn, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	alice := &tidbro.User{TenantID: tn.ID, Username: "alice"}
	if _, err := s.PutUser(ctx, alice); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	event := func(appID string, ownerID int64) *tidbro.Item {
		return &tidbro.Item{TenantID: tn.ID, OwnerID: ownerID, Kind: tidbro.KindEvent, AppID: appID, ChangedBy: tidbro.OriginApp,
			Event: &tidbro.Event{Summary: appID, Start: start, End: start.Add(time.Hour)}}
	}

	s.writer <- struct{}{} // as a batch would
	before := commits.Load()
	const writers = 16
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			_, _, errs[i] = s.PutItem(ctx, event(fmt.Sprintf("e%02d", i), alice.ID), tidbro.Precondition{})
		})
		waitQueued(t, s, i+1) // in this order, so that positions follow i
	}
	var failed error
	wg.Go(func() { _, _, failed = s.PutItem(ctx, event("nobody", alice.ID+1000), tidbro.Precondition{}) })
	var panicked any
	wg.Go(func() {
		defer func() { panicked = recover() }()
		s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if _, err := s.exec(ctx, tx, `UPDATE tenants SET name = 'panicked'`); err != nil {
				return err
			}
			panic("boom")
		})
	})
	waitQueued(t, s, writers+2)
	cctx, cancel := context.WithCancel(ctx)
	cancelled := make(chan error)
	go func() {
		_, _, err := s.PutItem(cctx, event("cancelled", alice.ID), tidbro.Precondition{})
		cancelled <- err
	}()
	waitQueued(t, s, writers+3)
	cancel()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Errorf("writer cancelled in the queue: %v, want context.Canceled", err)
	}
	waitQueued(t, s, writers+2) // it left the queue without waiting for the slot
	<-s.writer
	wg.Wait()

	if n := commits.Load() - before; n != 1 {
		t.Errorf("%d writers queued together committed in %d transactions, want 1", writers+2, n)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if code := tidbro.ErrorCode(failed); code != tidbro.EINVALID {
		t.Errorf("writer for an unknown owner: %v (code %q), want %q", failed, code, tidbro.EINVALID)
	}
	if panicked != "boom" {
		t.Errorf("panicking writer recovered %v, want its own panic", panicked)
	}
	if got, err := s.Tenant(ctx, "acme"); err != nil || got.ID != tn.ID {
		t.Errorf("tenant after a panicking writer: %+v, %v; want its write rolled back", got, err)
	}
	for _, appID := range []string{"nobody", "cancelled"} {
		if _, err := s.Item(ctx, tn.ID, tidbro.KindEvent, appID); tidbro.ErrorCode(err) != tidbro.ENOTFOUND {
			t.Errorf("item %q of a writer that did not succeed: %v, want ENOTFOUND", appID, err)
		}
	}
	cs, err := s.Changes(ctx, tidbro.ChangeQuery{TenantID: tn.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != writers {
		t.Fatalf("feed holds %d changes, want %d", len(cs), writers)
	}
	for i, c := range cs {
		if want := fmt.Sprintf("e%02d", i); c.Seq != int64(i)+1 || c.Item.AppID != want {
			t.Errorf("feed entry %d is %s@%d, want %s@%d", i, c.Item.AppID, c.Seq, want, i+1)
		}
	}
}

// TestGroupCommitFailure makes the COMMIT of a batch fail: every writer of
// the batch fails with it, and none of their writes stays.
func TestGroupCommitFailure(t *testing.T) {
	ctx := t.Context()
	s, _ := openSQLite(t)
	tn, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	alice := &tidbro.User{TenantID: tn.ID, Username: "alice"}
	if _, err := s.PutUser(ctx, alice); err != nil {
		t.Fatal(err)
	}
	// A deferred foreign key is checked at COMMIT: a writer that breaks one
	// fails the batch it is in, not its own statement.
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE notes (
	user_id INTEGER NOT NULL REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED)`); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s.writer <- struct{}{}
	var wg sync.WaitGroup
	var putErr, noteErr error
	wg.Go(func() {
		_, _, putErr = s.PutItem(ctx, &tidbro.Item{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindEvent, AppID: "e",
			ChangedBy: tidbro.OriginApp, Event: &tidbro.Event{Summary: "e", Start: start, End: start.Add(time.Hour)}}, tidbro.Precondition{})
	})
	waitQueued(t, s, 1)
	wg.Go(func() {
		_, noteErr = s.execWrite(ctx, `INSERT INTO notes (user_id) VALUES (?)`, alice.ID+1000)
	})
	waitQueued(t, s, 2)
	<-s.writer
	wg.Wait()
	for what, err := range map[string]error{"item writer": putErr, "note writer": noteErr} {
		if err == nil || !strings.Contains(err.Error(), "commit") {
			t.Errorf("%s in a batch whose COMMIT failed: %v, want the commit's error", what, err)
		}
	}
	if _, err := s.Item(ctx, tn.ID, tidbro.KindEvent, "e"); tidbro.ErrorCode(err) != tidbro.ENOTFOUND {
		t.Errorf("item of a failed batch: %v, want ENOTFOUND", err)
	}
	if h, err := s.Head(ctx, tn.ID); err != nil || h != 0 {
		t.Errorf("Head after a failed batch = %d, %v; want 0", h, err)
	}
}

// TestGroupCommitFirstFails fails the first writer of a batch, which runs
// without a savepoint of its own: its writes roll back, and the writers
// after it commit.
func TestGroupCommitFirstFails(t *testing.T) {
	ctx := t.Context()
	s, _ := openSQLite(t)
	tn, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	s.writer <- struct{}{} // as a batch would
	var wg sync.WaitGroup
	var failed, second error
	wg.Go(func() {
		failed = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if _, err := s.exec(ctx, tx, `UPDATE tenants SET name = 'failed'`); err != nil {
				return err
			}
			return errors.New("boom")
		})
	})
	waitQueued(t, s, 1)
	wg.Go(func() { _, second = s.CreateTenant(ctx, "second") })
	waitQueued(t, s, 2)
	<-s.writer
	wg.Wait()
	if failed == nil || failed.Error() != "boom" {
		t.Errorf("first writer: %v, want boom", failed)
	}
	if second != nil {
		t.Errorf("second writer: %v", second)
	}
	if got, err := s.Tenant(ctx, "acme"); err != nil || got.ID != tn.ID {
		t.Errorf("tenant after the failed first writer: %+v, %v; want its write rolled back", got, err)
	}
	if _, err := s.Tenant(ctx, "second"); err != nil {
		t.Errorf("the second writer's tenant: %v", err)
	}
}
