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
// create results (links with a remote id), as a crash right after the
// remote creates would leave them.
type linkCounter struct {
	tidbro.Store
	single, batches atomic.Int64
	loseResults     bool
}

func (c *linkCounter) PutLink(ctx context.Context, l *tidbro.Link) error {
	c.single.Add(1)
	if c.loseResults && l.RemoteID != "" {
		return errors.New("simulated crash")
	}
	return c.Store.PutLink(ctx, l)
}

func (c *linkCounter) PutLinks(ctx context.Context, links []*tidbro.Link) error {
	c.batches.Add(1)
	if c.loseResults && len(links) > 0 && links[0].RemoteID != "" {
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
	for i := range n {
		h.put("alice", fmt.Sprintf("E%d", i), tidbro.KindEvent, event(fmt.Sprintf("Visit %d", i), h.now.Add(time.Duration(i)*time.Hour)))
	}
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
	for i := range n {
		h.put("alice", fmt.Sprintf("E%d", i), tidbro.KindEvent, event(fmt.Sprintf("Visit %d", i), h.now.Add(time.Duration(i)*time.Hour)))
	}
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
