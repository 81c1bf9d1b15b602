package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/memremote"
	"github.com/tidbro/tidbro/sqlite"
	"github.com/tidbro/tidbro/storetest"
)

// harness is a tenant with users, each with an event pair bound to an
// in-memory remote, over a real SQLite store.
type harness struct {
	t       testing.TB
	ctx     context.Context
	store   tidbro.Store
	tenant  *tidbro.Tenant
	users   map[string]*tidbro.User
	remotes map[int64]*memremote.Remote // by user id
	pairs   map[string]*tidbro.Pair
	eng     *Engine
	now     time.Time
}

// tempDir prefers memory-backed storage: the property tests open thousands
// of databases.
func tempDir(t testing.TB) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "tidbro-engine-")
		if err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

func openStore(t testing.TB) tidbro.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tempDir(t), "t.db"), storetest.Sealer{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newHarness(t testing.TB, p tidbro.Policy, ro memremote.Options, users ...string) *harness {
	return newHarnessOn(t, openStore(t), "t", p, ro, users...)
}

// newHarnessOn sets up a tenant of its own in st.
func newHarnessOn(t testing.TB, st tidbro.Store, tenant string, p tidbro.Policy, ro memremote.Options, users ...string) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{t: t, ctx: ctx, store: st, users: map[string]*tidbro.User{}, remotes: map[int64]*memremote.Remote{},
		pairs: map[string]*tidbro.Pair{}, now: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	var err error
	h.tenant, err = st.CreateTenant(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range users {
		u := &tidbro.User{TenantID: h.tenant.ID, Username: name}
		if _, err := st.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		a := &tidbro.Account{TenantID: h.tenant.ID, UserID: u.ID, Name: "work", Kind: tidbro.AccountCalDAV, URL: "mem://" + name, Policy: p}
		if _, err := st.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		pr := &tidbro.Pair{TenantID: h.tenant.ID, AccountID: a.ID, UserID: u.ID, Kind: tidbro.KindEvent, RemoteID: "calendar"}
		if _, err := st.PutPair(ctx, pr); err != nil {
			t.Fatal(err)
		}
		opts := ro
		opts.Now = func() time.Time { return h.now }
		h.users[name], h.pairs[name], h.remotes[u.ID] = u, pr, memremote.New(opts)
	}
	h.eng = &Engine{Store: st, Now: func() time.Time { return h.now },
		Connect: func(_ context.Context, _ *tidbro.Account, p *tidbro.Pair, _ bool) (tidbro.Remote, error) {
			return h.remotes[p.UserID], nil
		}}
	return h
}

func (h *harness) remote(user string) *memremote.Remote { return h.remotes[h.users[user].ID] }

func (h *harness) put(user, appID string, kind tidbro.Kind, ev *tidbro.Event) *tidbro.Item {
	h.t.Helper()
	it := &tidbro.Item{TenantID: h.tenant.ID, Kind: kind, AppID: appID, Type: "appointment", OwnerID: h.users[user].ID, ChangedBy: tidbro.OriginApp, Event: ev}
	stored, _, err := h.store.PutItem(h.ctx, it, tidbro.Precondition{})
	if err != nil {
		h.t.Fatalf("put %s: %v", appID, err)
	}
	return stored
}

func (h *harness) item(kind tidbro.Kind, appID string) *tidbro.Item {
	it, err := h.store.Item(h.ctx, h.tenant.ID, kind, appID)
	if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return it
}

func (h *harness) del(kind tidbro.Kind, appID string) {
	h.t.Helper()
	if _, err := h.store.DeleteItem(h.ctx, h.tenant.ID, kind, appID, tidbro.Precondition{}, tidbro.OriginApp); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) sync(user string, o Options) *Result {
	h.t.Helper()
	res, err := h.eng.RunPair(h.ctx, h.pairs[user].ID, o)
	if err != nil {
		h.t.Fatalf("run %s: %v", user, err)
	}
	return res
}

func event(summary string, start time.Time) *tidbro.Event {
	return &tidbro.Event{Summary: summary, Start: start, End: start.Add(time.Hour)}
}
