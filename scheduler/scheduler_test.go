package scheduler

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/engine"
	"github.com/tidbro/tidbro/memremote"
	"github.com/tidbro/tidbro/sqlite"
	"github.com/tidbro/tidbro/storetest"
)

// world is a store with users, each with one calendar pair bound to an
// in-memory remote, and a connector that can be told to fail.
type world struct {
	t        *testing.T
	store    tidbro.Store
	tenant   *tidbro.Tenant
	users    map[string]*tidbro.User
	pairs    map[string]*tidbro.Pair
	remotes  map[int64]*memremote.Remote // by user
	failMu   sync.Mutex
	failErr  error // what the connector returns, if set
	connects atomic.Int64
	// running counts concurrent runs per pair, to catch two at once.
	mu      sync.Mutex
	running map[int64]int
	twice   atomic.Bool
	slow    time.Duration
}

func newWorld(t *testing.T, users ...string) *world {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "tidbro.db"), storetest.Sealer{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := &world{t: t, store: st, users: map[string]*tidbro.User{}, pairs: map[string]*tidbro.Pair{},
		remotes: map[int64]*memremote.Remote{}, running: map[int64]int{}}
	ctx := context.Background()
	if w.tenant, err = st.CreateTenant(ctx, tidbro.DefaultTenant); err != nil {
		t.Fatal(err)
	}
	for _, name := range users {
		u := &tidbro.User{TenantID: w.tenant.ID, Username: name}
		if _, err := st.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		a := &tidbro.Account{TenantID: w.tenant.ID, UserID: u.ID, Name: "work", Kind: tidbro.AccountCalDAV, URL: "mem://" + name, Policy: tidbro.DefaultPolicy()}
		if _, err := st.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		p := &tidbro.Pair{AccountID: a.ID, Kind: tidbro.KindEvent, RemoteID: "calendar"}
		if _, err := st.PutPair(ctx, p); err != nil {
			t.Fatal(err)
		}
		w.users[name], w.pairs[name], w.remotes[u.ID] = u, p, memremote.New(memremote.Options{})
	}
	return w
}

// connect opens the user's remote, or fails as told; it counts connects
// and the runs in flight per pair (a run ends when its context does, which
// the scheduler cancels before it releases the pair).
func (w *world) connect(ctx context.Context, _ *tidbro.Account, p *tidbro.Pair, _ bool) (tidbro.Remote, error) {
	w.connects.Add(1)
	w.failMu.Lock()
	err := w.failErr
	w.failMu.Unlock()
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.running[p.ID]++
	if w.running[p.ID] > 1 {
		w.twice.Store(true)
	}
	w.mu.Unlock()
	context.AfterFunc(ctx, func() {
		w.mu.Lock()
		w.running[p.ID]--
		w.mu.Unlock()
	})
	time.Sleep(w.slow)
	return w.remotes[p.UserID], nil
}

// scheduler starts a scheduler over the world, stopped when the test ends.
func (w *world) scheduler(name string) *Scheduler {
	s := &Scheduler{Store: w.store, Engine: &engine.Engine{Store: w.store, Connect: w.connect}, Owner: name,
		Tick: 20 * time.Millisecond, Lease: 2 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		if err := s.Run(ctx); err != nil {
			w.t.Errorf("scheduler %s: %v", name, err)
		}
		close(done)
	}()
	w.t.Cleanup(func() { cancel(); <-done })
	return s
}

func (w *world) put(user, appID, summary string) {
	w.t.Helper()
	start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
	it := &tidbro.Item{TenantID: w.tenant.ID, Kind: tidbro.KindEvent, AppID: appID, Type: "appointment", OwnerID: w.users[user].ID,
		ChangedBy: tidbro.OriginApp, Event: &tidbro.Event{Summary: summary, Start: start, End: start.Add(time.Hour)}}
	if _, _, err := w.store.PutItem(context.Background(), it, tidbro.Precondition{}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) failWith(err error) {
	w.failMu.Lock()
	w.failErr = err
	w.failMu.Unlock()
}

// eventually waits up to d for cond.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An app change, made by any writer, reaches the remote at once; so does
// the initial state at start-up.
func TestAppChangeRuns(t *testing.T) {
	w := newWorld(t, "alice", "bob")
	w.put("alice", "A-0", "Before start")
	w.scheduler("one")
	alice := w.remotes[w.users["alice"].ID]
	eventually(t, 5*time.Second, "the start-up run exports A-0", func() bool { return alice.Len() == 1 })
	w.put("alice", "A-1", "Visit")
	eventually(t, 5*time.Second, "the app change reaches the remote", func() bool { return alice.Len() == 2 })
	if bob := w.remotes[w.users["bob"].ID]; bob.Len() != 0 {
		t.Errorf("bob's remote got %d items", bob.Len())
	}
	// Then the pair rests until its interval.
	eventually(t, 5*time.Second, "alice's pair scheduled for its interval", func() bool {
		s, err := w.store.Schedule(context.Background(), w.pairs["alice"].ID)
		return err == nil && s.Request == "" && s.LeaseOwner == "" && s.NextRun.After(time.Now().Add(DefaultInterval-time.Minute))
	})
}

// Bad credentials park the pair: no retry storm, until the settings
// change; a transient failure is retried after a backoff.
func TestFailures(t *testing.T) {
	w := newWorld(t, "alice")
	ctx := context.Background()
	w.failWith(tidbro.Errorf(tidbro.EUNAUTHORIZED, "wrong password"))
	w.scheduler("one")
	p := w.pairs["alice"].ID
	eventually(t, 5*time.Second, "the pair is parked", func() bool {
		sch, err := w.store.Schedule(ctx, p)
		return err == nil && sch.Parked != ""
	})
	n := w.connects.Load()
	w.put("alice", "A-1", "Visit") // an app change does not unpark it
	time.Sleep(300 * time.Millisecond)
	if w.connects.Load() != n {
		t.Fatalf("a parked pair was run again %d times", w.connects.Load()-n)
	}
	// The password is fixed: the settings change unparks it.
	w.failWith(tidbro.Errorf(tidbro.EUNAVAILABLE, "server down"))
	if _, err := w.store.RequestRuns(ctx, tidbro.PairQuery{TenantID: w.tenant.ID, PairID: p}, tidbro.RequestRun, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a transient failure backs off", func() bool {
		sch, err := w.store.Schedule(ctx, p)
		return err == nil && sch.Parked == "" && sch.Attempts == 1 && sch.NextRun.After(time.Now().Add(20*time.Second))
	})
	// The server comes back; a run asked for by a person goes through at once.
	w.failWith(nil)
	if _, err := w.store.RequestRuns(ctx, tidbro.PairQuery{TenantID: w.tenant.ID, PairID: p}, tidbro.RequestRun, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the change is delivered", func() bool { return w.remotes[w.users["alice"].ID].Len() == 1 })
}

// Two schedulers on one database never run a pair twice at once, and
// between them deliver everything.
func TestTwoInstances(t *testing.T) {
	users := []string{"u0", "u1", "u2", "u3", "u4", "u5"}
	w := newWorld(t, users...)
	w.slow = 30 * time.Millisecond
	w.scheduler("one")
	w.scheduler("two")
	for i := range 30 {
		w.put(users[i%len(users)], fmt.Sprintf("E-%d", i), fmt.Sprintf("Event %d", i))
		time.Sleep(5 * time.Millisecond)
	}
	eventually(t, 10*time.Second, "every change delivered", func() bool {
		total := 0
		for _, r := range w.remotes {
			total += r.Len()
		}
		return total == 30
	})
	if w.twice.Load() {
		t.Fatal("a pair ran twice at once")
	}
}

func TestBackoff(t *testing.T) {
	for attempts, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 4: 4 * time.Minute, 20: time.Hour} {
		for range 20 {
			if d := backoff(0, attempts); d < want-want/5 || d > want+want/5 {
				t.Errorf("backoff(%d) = %v, want %v ±20%%", attempts, d, want)
			}
		}
	}
}
