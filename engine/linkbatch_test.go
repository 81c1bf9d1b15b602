package engine

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/memremote"
)

// linkCounter counts the store's link writes, and can refuse batches of
// write results (links no longer pending a write), as a crash right after
// the remote writes would leave them.
type linkCounter struct {
	tidbro.Store
	single, batches, forgets atomic.Int64
	loseResults              bool
}

func isResult(l *tidbro.Link) bool {
	return l.Pending != tidbro.PendingCreate && l.Pending != tidbro.PendingUpdate && l.Pending != tidbro.PendingDelete
}

func (c *linkCounter) PutLink(ctx context.Context, l *tidbro.Link) error {
	c.single.Add(1)
	if c.loseResults && isResult(l) {
		return errors.New("simulated crash")
	}
	return c.Store.PutLink(ctx, l)
}

func (c *linkCounter) DeleteLinks(ctx context.Context, pairID int64, itemIDs []int64) error {
	c.forgets.Add(1)
	if c.loseResults {
		return errors.New("simulated crash")
	}
	return c.Store.DeleteLinks(ctx, pairID, itemIDs)
}

func (c *linkCounter) PutLinks(ctx context.Context, links []*tidbro.Link) error {
	c.batches.Add(1)
	if c.loseResults && len(links) > 0 && isResult(links[0]) {
		return errors.New("simulated crash")
	}
	return c.Store.PutLinks(ctx, links)
}

// A first run records its creates' intents and results in batches, not
// two transactions per item.
func TestFirstRunBatchesLinks(t *testing.T) {
	const n = 250
	h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{}, "alice")
	c := &linkCounter{Store: h.store}
	h.eng.Store = c
	putVisits(h, n, "")
	if res := h.sync("alice", Options{}); res.Run.Counts.Remote.Created != n || len(res.Errors) > 0 {
		t.Fatalf("created %d, errors %v", res.Run.Counts.Remote.Created, res.Errors)
	}
	// 3 batches of intents and 3 of results (100, 100, 50).
	if s, b := c.single.Load(), c.batches.Load(); s != 0 || b != 6 {
		t.Errorf("link writes: %d alone and %d batches, want 0 and 6", s, b)
	}
	links, err := h.store.Links(h.ctx, h.pairs["alice"].ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if l.RemoteID == "" || l.RemoteETag == "" || l.Pending == tidbro.PendingCreate {
			t.Fatalf("link after the run: %+v", l)
		}
	}
	if len(links) != n {
		t.Errorf("%d links, want %d", len(links), n)
	}
}

// Results lost after the remote creates happened (the process died before
// writing them) leave the intents; the next run finds each item by its
// key and links it, creating nothing twice.
func TestLostCreateResultsResume(t *testing.T) {
	const n = 120
	h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{}, "alice")
	c := &linkCounter{Store: h.store, loseResults: true}
	h.eng.Store = c
	putVisits(h, n, "")
	res, _ := h.eng.RunPair(h.ctx, h.pairs["alice"].ID, Options{})
	if res == nil || len(res.Errors) == 0 {
		t.Fatalf("a run whose results were lost reports no error: %+v", res)
	}
	if got := h.remote("alice").Len(); got != n {
		t.Fatalf("remote holds %d items after the first run, want %d", got, n)
	}
	c.loseResults = false
	h.sync("alice", Options{})
	if got := h.remote("alice").Len(); got != n {
		t.Errorf("remote holds %d items after the resumed run, want %d (nothing created twice)", got, n)
	}
	links, err := h.store.Links(h.ctx, h.pairs["alice"].ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	linked := map[string]bool{}
	for _, l := range links {
		if l.RemoteID == "" || l.Pending == tidbro.PendingCreate || linked[l.RemoteID] {
			t.Fatalf("link after the resumed run: %+v", l)
		}
		linked[l.RemoteID] = true
	}
	if len(links) != n {
		t.Errorf("%d links, want %d", len(links), n)
	}
	items, _, err := h.store.Items(h.ctx, tidbro.ItemQuery{TenantID: h.tenant.ID, OwnerID: h.users["alice"].ID, Kind: tidbro.KindEvent, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != n {
		t.Errorf("the app holds %d events, want %d (nothing imported back)", len(items), n)
	}
}

// A run updating many remote items records their intents and results in
// batches too.
func TestUpdatesBatchLinks(t *testing.T) {
	const n = 250
	h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{}, "alice")
	putVisits(h, n, "")
	h.sync("alice", Options{})
	c := &linkCounter{Store: h.store}
	h.eng.Store = c
	putVisits(h, n, " moved")
	if res := h.sync("alice", Options{}); res.Run.Counts.Remote.Updated != n || len(res.Errors) > 0 {
		t.Fatalf("updated %d, errors %v", res.Run.Counts.Remote.Updated, res.Errors)
	}
	if s, b := c.single.Load(), c.batches.Load(); s != 0 || b != 6 {
		t.Errorf("link writes: %d alone and %d batches, want 0 and 6", s, b)
	}
	links, err := h.store.Links(h.ctx, h.pairs["alice"].ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if l.Pending == tidbro.PendingUpdate {
			t.Fatalf("link still pending after the run: %+v", l)
		}
	}
}

// Update results lost after the remote writes happened leave both sides
// changed to the same content: the next run relinks them, writing nothing
// and reporting no conflict.
func TestLostUpdateResultsRelink(t *testing.T) {
	const n = 120
	h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{}, "alice")
	putVisits(h, n, "")
	h.sync("alice", Options{})
	c := &linkCounter{Store: h.store, loseResults: true}
	h.eng.Store = c
	putVisits(h, n, " moved")
	res, _ := h.eng.RunPair(h.ctx, h.pairs["alice"].ID, Options{})
	if res == nil || len(res.Errors) == 0 {
		t.Fatalf("a run whose results were lost reports no error: %+v", res)
	}
	c.loseResults = false
	etags := map[string]string{}
	for _, it := range h.remote("alice").Items() {
		etags[it.ID] = it.ETag
	}
	res = h.sync("alice", Options{})
	if len(res.Errors) > 0 || res.Run.Counts.Remote.Conflicts > 0 || res.Run.Counts.App.Conflicts > 0 {
		t.Fatalf("resumed run: errors %v, counts %+v", res.Errors, res.Run.Counts)
	}
	relinked := 0
	for _, a := range res.Actions {
		if a.Op == Relink {
			relinked++
		} else if a.Op != Skip {
			t.Errorf("resumed run: %s %s (%s)", a.Op, a.Entry, a.Rule)
		}
	}
	if relinked != n {
		t.Errorf("%d relinked, want %d", relinked, n)
	}
	for _, it := range h.remote("alice").Items() {
		if etags[it.ID] != it.ETag {
			t.Errorf("the resumed run wrote remote item %s", it.ID)
		}
	}
	links, err := h.store.Links(h.ctx, h.pairs["alice"].ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		it, err := h.store.ItemsByID(h.ctx, h.tenant.ID, []int64{l.ItemID})
		if err != nil || len(it) != 1 {
			t.Fatalf("item %d: %v", l.ItemID, err)
		}
		if l.Pending == tidbro.PendingUpdate || l.AppHash != it[0].Hash {
			t.Fatalf("link after the resumed run: %+v (item hash %s)", l, it[0].Hash)
		}
		if got := h.remote("alice").Get(l.RemoteID).Event.Summary; got != it[0].Event.Summary {
			t.Errorf("remote %s holds %q, the app %q", l.RemoteID, got, it[0].Event.Summary)
		}
	}
}

// putVisits puts alice's events E0… E(n-1), an hour apart, each summary
// ending in suffix.
func putVisits(h *harness, n int, suffix string) {
	for i := range n {
		h.put("alice", fmt.Sprintf("E%d", i), tidbro.KindEvent, event(fmt.Sprintf("Visit %d%s", i, suffix), h.now.Add(time.Duration(i)*time.Hour)))
	}
}

// Deletions record their intents, and forget their links, in batches; lost,
// the forgetting is done by the next run, which deletes nothing more.
func TestDeletesBatchLinks(t *testing.T) {
	const n = 250 // of 2n: within the mass-deletion guard's half
	h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{}, "alice")
	putVisits(h, 2*n, "")
	h.sync("alice", Options{})
	c := &linkCounter{Store: h.store, loseResults: true}
	h.eng.Store = c
	for i := range n {
		h.del(tidbro.KindEvent, fmt.Sprintf("E%d", i))
	}
	res, _ := h.eng.RunPair(h.ctx, h.pairs["alice"].ID, Options{})
	if res == nil || res.Run.Counts.Remote.Deleted != n || len(res.Errors) == 0 {
		t.Fatalf("a run whose forgetting was lost: deleted %+v, errors %v, status %s %s", res.Run.Counts, res.Errors, res.Run.Status, res.Run.Error)
	}
	// 3 batches of intents; 3 of forgetting, each refused and retried alone.
	if s, b, f := c.single.Load(), c.batches.Load(), c.forgets.Load(); s != 0 || b != 3 || f != 3+n {
		t.Errorf("link writes: %d alone, %d batches, %d deletions, want 0, 3 and %d", s, b, f, 3+n)
	}
	if got := h.remote("alice").Len(); got != n {
		t.Fatalf("remote holds %d items after the deletions, want %d", got, n)
	}
	c.loseResults = false
	c.forgets.Store(0)
	res = h.sync("alice", Options{})
	if len(res.Errors) > 0 || res.Run.Counts.Remote.Deleted != 0 || res.Run.Counts.App.Deleted != 0 {
		t.Fatalf("the next run: errors %v, counts %+v", res.Errors, res.Run.Counts)
	}
	if f := c.forgets.Load(); f != 3 {
		t.Errorf("the next run forgot in %d batches, want 3", f)
	}
	if got, err := h.store.CountLinks(h.ctx, h.pairs["alice"].ID); err != nil || got != n {
		t.Errorf("%d links left (%v), want %d", got, err, n)
	}
}
