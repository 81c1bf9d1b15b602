package engine

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/memremote"
)

// firstRunIn makes first runs keep whole items and plan pages as given
// (gather.light), and runs write their audit entries every flush entries,
// until the returned func restores them.
func firstRunIn(whole, page, flush int) (restore func()) {
	w, p, f := firstRunWhole, firstRunPage, auditFlush
	firstRunWhole, firstRunPage, auditFlush = whole, page, flush
	return func() { firstRunWhole, firstRunPage, auditFlush = w, p, f }
}

// A first run too big to hold whole is planned and executed a page at a
// time (gather.light); it does exactly what one planned at once does: the
// same actions in the same order, the same counts and audit entries, the
// same items and links on both sides. The calendar has what a first run
// meets: matches by UID and by start and summary (one with a conflict,
// one contested by two app items), an import, an import whose link a
// crash lost, a private item the remote cannot mark, one outside the
// window.
func TestPagedFirstRunAsWhole(t *testing.T) {
	type outcome struct {
		runs  []string
		audit []string
		app   []string
		links []string
		items []string
	}
	first := func(whole, page, flush int) outcome {
		defer firstRunIn(whole, page, flush)()
		h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{NoPrivate: true}, "alice")
		h.eng.Parallel = 1
		r := h.remote("alice")
		day := func(d int) time.Time { return h.now.Truncate(24*time.Hour).AddDate(0, 0, d).Add(10 * time.Hour) }
		for i := range 9 {
			ev := event(fmt.Sprintf("Visit %d", i), day(i))
			switch i {
			case 2:
				ev.UID = "uid-2"
			case 3:
				ev.Private = true
			case 4:
				ev.Start, ev.End = day(900), day(900).Add(time.Hour)
			case 7:
				ev.Summary, ev.Start, ev.End = "Visit 6", day(6), day(6).Add(time.Hour) // contests Visit 6's match
			}
			h.put("alice", fmt.Sprintf("E%d", i), tidbro.KindEvent, ev)
		}
		put := func(ev *tidbro.Event) tidbro.RemoteRef {
			return r.Put(&tidbro.RemoteItem{Kind: tidbro.KindEvent, Event: ev})
		}
		same := event("Visit 1", day(1))
		put(same) // matched, same content
		moved := event("Visit 5", day(5))
		moved.Location = "Room 2"
		put(moved) // matched, changed on both sides
		byUID := event("Renamed", day(12))
		byUID.UID = "uid-2"
		put(byUID)
		put(event("Visit 6", day(6)))
		put(event("Groupware's own", day(3)))
		lost := put(event("Imported before", day(8)))
		it := &tidbro.Item{TenantID: h.tenant.ID, Kind: tidbro.KindEvent, AppID: importID(h.pairs["alice"].ID, lost.ID),
			Type: tidbro.TypeGroupware, Origin: tidbro.OriginGroupware, ChangedBy: tidbro.OriginGroupware,
			OwnerID: h.users["alice"].ID, Event: event("Imported before", day(8))}
		if _, _, err := h.store.PutItem(h.ctx, it, tidbro.Precondition{}); err != nil {
			t.Fatal(err)
		}

		var o outcome
		for range 2 {
			res := h.sync("alice", Options{})
			s := fmt.Sprintf("%s %+v %v", res.Run.Status, res.Run.Counts, res.Errors)
			for _, a := range res.Actions {
				s += fmt.Sprintf("\n  %s: %v×%v → %s (%s) conflict %v err %v", a.Entry, a.AppState, a.RemState, a.Op, a.Rule, a.Conflict, a.Err)
			}
			o.runs = append(o.runs, s)
			h.now = h.now.Add(time.Minute)
		}
		entries, err := h.store.AuditLog(h.ctx, h.tenant.ID, h.users["alice"].ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			o.audit = append(o.audit, fmt.Sprintf("run %d %s %s %s %s %s %s", e.RunID, e.Action, e.Kind, e.AppID, e.RemoteID, e.Rule, e.Error))
		}
		// Skips are recorded as execution passes them, writes as they
		// complete: their order is not the plan's, even one at a time.
		slices.Sort(o.audit)
		items, _, err := h.store.Items(h.ctx, tidbro.ItemQuery{TenantID: h.tenant.ID, OwnerID: h.users["alice"].ID, Kind: tidbro.KindEvent, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			o.app = append(o.app, fmt.Sprintf("%d %s %s v%d %s %s", it.ID, it.AppID, it.Origin, it.Version, it.Event.Summary, it.Event.Location))
		}
		links, err := h.store.Links(h.ctx, h.pairs["alice"].ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range links {
			o.links = append(o.links, fmt.Sprintf("%d %s %s %d %s %s %s %s %q %v %v", l.ItemID, l.RemoteID, l.RemoteETag, l.AppVersion,
				l.AppHash, l.RemoteHash, l.Origin, l.Key, l.Pending, l.SpanFrom, l.SpanTo)+" "+string(l.Base))
		}
		for _, it := range r.Items() {
			o.items = append(o.items, fmt.Sprintf("%s %s %s %s", it.ID, it.ETag, it.Event.Summary, it.Event.Location))
		}
		slices.Sort(o.items)
		return o
	}
	want := first(1<<30, firstRunPage, auditFlush)
	if len(want.links) < 6 {
		t.Fatalf("the first run linked too little to compare: %q", want.links)
	}
	for _, c := range []struct{ whole, page, flush int }{{0, 1, 1}, {0, 2, 3}, {3, 4, 500}, {0, 1000, 500}, {1 << 30, 1000, 2}} {
		got := first(c.whole, c.page, c.flush)
		for _, f := range []struct {
			name      string
			got, want []string
		}{{"runs", got.runs, want.runs}, {"audit", got.audit, want.audit}, {"app items", got.app, want.app},
			{"links", got.links, want.links}, {"remote items", got.items, want.items}} {
			if !slices.Equal(f.got, f.want) {
				t.Errorf("whole %d, pages of %d, audit written every %d: %s differ:\n%q\nplanned at once:\n%q", c.whole, c.page, c.flush, f.name, f.got, f.want)
			}
		}
	}
}

// TestPropertyConverges with every first run planned and executed in
// pages of two entries, reading each item again (gather.light), and audit
// entries written every three (crashes fall between them too).
func TestPropertyConvergesPaged(t *testing.T) {
	defer firstRunIn(0, 2, 3)()
	st := openStore(t)
	n := int64(max(*scenarios/4, 1))
	if testing.Short() {
		n = min(n, 50)
	}
	var failed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for seed := int64(100_000); seed < 100_000+n; seed++ {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := scenario(t, st, seed); err != nil {
				failed.Add(1)
				t.Errorf("seed %d: %v", seed, err)
			}
		})
	}
	wg.Wait()
	t.Logf("%d scenarios, %d failed", n, failed.Load())
}
