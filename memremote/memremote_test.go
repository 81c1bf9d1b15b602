package memremote_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/memremote"
)

var (
	ctx   = context.Background()
	jun1  = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	week  = tidbro.TimeRange{From: jun1, To: jun1.AddDate(0, 0, 7)}
	later = jun1.AddDate(0, 2, 0)
)

func event(summary string, start time.Time) *tidbro.RemoteItem {
	return &tidbro.RemoteItem{Kind: tidbro.KindEvent, Event: &tidbro.Event{Summary: summary, Start: start, End: start.Add(time.Hour)}}
}

func create(t *testing.T, r *memremote.Remote, key string, it *tidbro.RemoteItem) tidbro.RemoteRef {
	t.Helper()
	ref, err := r.Create(ctx, key, it)
	if err != nil {
		t.Fatalf("Create(%q): %v", key, err)
	}
	return ref
}

func changes(t *testing.T, r *memremote.Remote, token string, w *tidbro.TimeRange) *tidbro.RemoteChanges {
	t.Helper()
	ch, err := r.Changes(ctx, token, w)
	if err != nil {
		t.Fatalf("Changes(%q): %v", token, err)
	}
	return ch
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := tidbro.ErrorCode(err); got != code {
		t.Fatalf("error %v (code %q), want code %q", err, got, code)
	}
}

func ids(refs []tidbro.RemoteRef) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.ID)
	}
	return out
}

func removed(rs []tidbro.Removed) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s:%v", r.ID, r.Deleted))
	}
	return out
}

func TestDefaults(t *testing.T) {
	r := memremote.New(memremote.Options{})
	c := r.Capabilities()
	if !c.SyncTokens || c.ServerIDs || !c.Private || !slices.Equal(c.Kinds, []tidbro.Kind{tidbro.KindEvent}) || c.MaxBatch != 50 {
		t.Fatalf("default capabilities %+v", c)
	}
	ref := create(t, r, "a.ics", event("A", jun1))
	if ref.ID != "a.ics" || ref.ETag == "" {
		t.Fatalf("CalDAV-like create: ref %+v, want the key as id", ref)
	}
	// Capabilities are the caller's copy.
	c.Kinds[0] = tidbro.KindTask
	if r.Capabilities().Kinds[0] != tidbro.KindEvent {
		t.Fatal("changing returned capabilities changed the remote's")
	}
}

func TestCopiesAtTheBoundary(t *testing.T) {
	r := memremote.New(memremote.Options{})
	in := event("Original", jun1)
	in.Event.Categories = []string{"a"}
	in.Raw = []byte("BEGIN:VCALENDAR")
	ref := create(t, r, "a", in)
	in.Event.Summary, in.Event.Categories[0], in.Raw[0] = "changed input", "changed", 'X'

	items, _, err := r.Fetch(ctx, []string{ref.ID})
	if err != nil || len(items) != 1 {
		t.Fatalf("Fetch: %v, %d items", err, len(items))
	}
	got := items[0]
	if got.Event.Summary != "Original" || got.Event.Categories[0] != "a" || string(got.Raw) != "BEGIN:VCALENDAR" {
		t.Fatalf("changing Create's argument changed the stored item: %+v", got.Event)
	}
	got.Event.Summary, got.Event.Categories[0], got.Raw[0] = "changed output", "changed", 'X'
	for _, again := range []*tidbro.RemoteItem{r.Get(ref.ID), r.Items()[0]} {
		if again.Event.Summary != "Original" || again.Event.Categories[0] != "a" || string(again.Raw) != "BEGIN:VCALENDAR" {
			t.Fatalf("changing a fetched item changed the stored one: %+v", again.Event)
		}
	}
	put := event("Put", jun1)
	ref2 := r.Put(put)
	put.Event.Summary = "changed after Put"
	if r.Get(ref2.ID).Event.Summary != "Put" {
		t.Fatal("changing Put's argument changed the stored item")
	}
}

func TestServerIDs(t *testing.T) {
	r := memremote.New(memremote.Options{ServerIDs: true})
	if !r.Capabilities().ServerIDs {
		t.Fatal("ServerIDs capability not set")
	}
	ref := create(t, r, "key-1", event("A", jun1))
	if ref.ID == "key-1" || ref.ID == "" {
		t.Fatalf("server id %q, want a fresh one", ref.ID)
	}
	again := create(t, r, "key-1", event("A changed", jun1))
	if again != ref || r.Len() != 1 || r.Get(ref.ID).Event.Summary != "A" {
		t.Fatalf("second create with the key: %+v (first %+v), %d items", again, ref, r.Len())
	}
	other := create(t, r, "key-2", event("B", jun1))
	if other.ID == ref.ID {
		t.Fatal("two keys, one id")
	}
	// The key names a live item only: once it is deleted, the key makes a new one.
	if err := r.Delete(ctx, ref.ID, ""); err != nil {
		t.Fatal(err)
	}
	revived := create(t, r, "key-1", event("A again", jun1))
	if revived.ID == ref.ID || r.Len() != 2 {
		t.Fatalf("create after delete: %+v, %d items", revived, r.Len())
	}
}

// TestLostResponse: a write applied whose answer is lost, then retried as
// the engine does, leaves one item in the state the retry expects.
func TestLostResponse(t *testing.T) {
	for _, opts := range []memremote.Options{{}, {ServerIDs: true}} {
		t.Run(fmt.Sprintf("ServerIDs=%v", opts.ServerIDs), func(t *testing.T) {
			r := memremote.New(opts)
			lose := func(op memremote.Op) {
				r.SetFault(func(o memremote.Op, _ string) memremote.FaultAction {
					if o == op {
						return memremote.FailAfter
					}
					return memremote.None
				})
			}

			lose(memremote.OpCreate)
			_, err := r.Create(ctx, "k", event("A", jun1))
			if !tidbro.Transient(err) {
				t.Fatalf("lost create: %v, want a transient error", err)
			}
			if r.Len() != 1 {
				t.Fatalf("lost create: %d items, want the write applied", r.Len())
			}
			r.SetFault(nil)
			ref := create(t, r, "k", event("A", jun1))
			if r.Len() != 1 || ref != (tidbro.RemoteRef{ID: r.Items()[0].ID, ETag: r.Items()[0].ETag}) {
				t.Fatalf("retried create: %+v, %d items", ref, r.Len())
			}

			lose(memremote.OpUpdate)
			upd := r.Get(ref.ID)
			upd.Event.Summary = "B"
			if _, err := r.Update(ctx, upd, ref.ETag); !tidbro.Transient(err) {
				t.Fatalf("lost update: %v, want a transient error", err)
			}
			if got := r.Get(ref.ID); got.Event.Summary != "B" || got.ETag == ref.ETag {
				t.Fatalf("lost update not applied: %+v", got)
			}
			r.SetFault(nil)
			_, err = r.Update(ctx, upd, ref.ETag)
			wantCode(t, err, tidbro.EPRECONDITION) // the engine refetches and finds B there

			lose(memremote.OpDelete)
			if err := r.Delete(ctx, ref.ID, ""); !tidbro.Transient(err) {
				t.Fatalf("lost delete: %v, want a transient error", err)
			}
			if r.Len() != 0 {
				t.Fatal("lost delete not applied")
			}
			r.SetFault(nil)
			if err := r.Delete(ctx, ref.ID, ref.ETag); err != nil {
				t.Fatalf("retried delete: %v", err)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	r := memremote.New(memremote.Options{})
	ref := create(t, r, "a", event("A", jun1))
	var seen []string
	var action memremote.FaultAction
	r.SetFault(func(op memremote.Op, id string) memremote.FaultAction {
		seen = append(seen, string(op)+":"+id)
		return action
	})
	upd := r.Get(ref.ID)
	upd.Event.Summary = "B"
	calls := map[memremote.Op]func() error{
		memremote.OpChanges: func() error { _, err := r.Changes(ctx, "", nil); return err },
		memremote.OpFetch:   func() error { _, _, err := r.Fetch(ctx, []string{ref.ID}); return err },
		memremote.OpCreate:  func() error { _, err := r.Create(ctx, "b", event("B", jun1)); return err },
		memremote.OpUpdate:  func() error { _, err := r.Update(ctx, upd, ref.ETag); return err },
		memremote.OpDelete:  func() error { return r.Delete(ctx, ref.ID, ref.ETag) },
	}
	for _, a := range []memremote.FaultAction{memremote.Fail, memremote.Timeout, memremote.Reject} {
		for _, op := range []memremote.Op{memremote.OpChanges, memremote.OpFetch, memremote.OpCreate, memremote.OpUpdate, memremote.OpDelete} {
			action = a
			err := calls[op]()
			if op == memremote.OpFetch && a == memremote.Reject {
				continue // an item error, below
			}
			switch a {
			case memremote.Fail:
				if !tidbro.Transient(err) || tidbro.ErrorCode(err) != tidbro.EUNAVAILABLE {
					t.Errorf("%s under %s: %v, want EUNAVAILABLE", op, a, err)
				}
			case memremote.Timeout:
				if !errors.Is(err, context.DeadlineExceeded) || !tidbro.Transient(err) {
					t.Errorf("%s under %s: %v, want a deadline error", op, a, err)
				}
			case memremote.Reject:
				if tidbro.ErrorCode(err) != tidbro.EINVALID || tidbro.Transient(err) {
					t.Errorf("%s under %s: %v, want a permanent EINVALID", op, a, err)
				}
			}
			if got := r.Get(ref.ID); r.Len() != 1 || got.ETag != ref.ETag {
				t.Fatalf("%s under %s changed the remote", op, a)
			}
		}
	}
	want := []string{"changes:", "fetch:a", "create:b", "update:a", "delete:a"}
	if !slices.Equal(seen[:5], want) {
		t.Errorf("the fault plan saw %v, want %v", seen[:5], want)
	}

	// In Fetch a rejection is one item's error; a failure fails the call.
	b := r.Put(event("B", jun1))
	r.SetFault(func(op memremote.Op, id string) memremote.FaultAction {
		if op == memremote.OpFetch && id == b.ID {
			return memremote.Reject
		}
		return memremote.None
	})
	items, errs, err := r.Fetch(ctx, []string{ref.ID, b.ID, "unknown"})
	if err != nil || len(items) != 1 || items[0].ID != ref.ID || len(errs) != 1 || errs[0].ID != b.ID || tidbro.ErrorCode(errs[0].Err) != tidbro.EINVALID {
		t.Fatalf("Fetch with a rejected id: %v, items %v, errs %v", err, items, errs)
	}
	r.SetFault(func(op memremote.Op, id string) memremote.FaultAction {
		if id == b.ID {
			return memremote.Fail
		}
		return memremote.None
	})
	if _, _, err := r.Fetch(ctx, []string{ref.ID, b.ID}); !tidbro.Transient(err) {
		t.Fatalf("Fetch with a failing id: %v, want the call to fail", err)
	}
}

func TestRandomFaults(t *testing.T) {
	draw := func(seed uint64, rate float64, n int) []memremote.FaultAction {
		f := memremote.RandomFaults(rand.New(rand.NewPCG(seed, 0)), rate)
		out := make([]memremote.FaultAction, n)
		for i := range out {
			out[i] = f(memremote.OpUpdate, "x")
		}
		return out
	}
	if !slices.Equal(draw(7, 0.3, 200), draw(7, 0.3, 200)) {
		t.Fatal("the same seed gave different plans")
	}
	if slices.Equal(draw(7, 0.3, 200), draw(8, 0.3, 200)) {
		t.Fatal("different seeds gave the same plan")
	}
	if slices.ContainsFunc(draw(1, 0, 1000), func(a memremote.FaultAction) bool { return a != memremote.None }) {
		t.Fatal("rate 0 injected a fault")
	}
	count := map[memremote.FaultAction]int{}
	for _, a := range draw(1, 1, 3000) {
		count[a]++
	}
	if count[memremote.None] != 0 || count[memremote.Reject] != 0 || count[memremote.Fail] < 800 || count[memremote.FailAfter] < 800 || count[memremote.Timeout] < 800 {
		t.Fatalf("rate 1: %v, want only transient faults, evenly", count)
	}
	n := 0
	for _, a := range draw(3, 0.2, 10000) {
		if a != memremote.None {
			n++
		}
	}
	if n < 1700 || n > 2300 {
		t.Fatalf("rate 0.2: %d faults in 10000 calls", n)
	}

	// Under random faults, deterministic retries converge.
	run := func() []string {
		r := memremote.New(memremote.Options{ServerIDs: true, Now: func() time.Time { return jun1 }})
		r.SetFault(memremote.RandomFaults(rand.New(rand.NewPCG(42, 0)), 0.5))
		for i := range 20 {
			for {
				if _, err := r.Create(ctx, fmt.Sprint(i), event(fmt.Sprint(i), jun1)); err == nil {
					break
				} else if !tidbro.Transient(err) {
					t.Fatal(err)
				}
			}
		}
		var out []string
		for _, it := range r.Items() {
			out = append(out, it.ID+" "+it.ETag+" "+it.Event.Summary)
		}
		return out
	}
	first := run()
	if len(first) != 20 {
		t.Fatalf("20 creates retried until they succeeded made %d items", len(first))
	}
	if second := run(); !slices.Equal(first, second) {
		t.Fatal("the same seed gave a different outcome")
	}
}

func TestTokens(t *testing.T) {
	r := memremote.New(memremote.Options{})
	a := create(t, r, "a", event("A", jun1))
	b := create(t, r, "b", event("B", jun1))
	start := changes(t, r, "", nil)
	if !start.Full || !slices.Equal(ids(start.Changed), []string{"a", "b"}) || start.Token == "" {
		t.Fatalf("full listing %+v", start)
	}

	for _, bad := range []string{"garbage", "memsync-", "memsync-99", "memsync--1", "memsync-01", "memsync-0 ", "memsync-none"} {
		_, err := r.Changes(ctx, bad, nil)
		wantCode(t, err, tidbro.EINVALID)
		if !strings.Contains(tidbro.ErrorMessage(err), "invalid") {
			t.Errorf("token %q: message %q does not say the token is invalid", bad, tidbro.ErrorMessage(err))
		}
	}

	// b changes twice, c comes and goes, a goes: b once with its newest etag, a removed.
	upd := r.Get("b")
	upd.Event.Summary = "B2"
	b2, err := r.Update(ctx, upd, b.ETag)
	if err != nil {
		t.Fatal(err)
	}
	upd.Event.Summary = "B3"
	b3, err := r.Update(ctx, upd, b2.ETag)
	if err != nil {
		t.Fatal(err)
	}
	create(t, r, "c", event("C", jun1))
	r.Remove("c")
	if err := r.Delete(ctx, "a", a.ETag); err != nil {
		t.Fatal(err)
	}
	ch := changes(t, r, start.Token, nil)
	if ch.Full || len(ch.Changed) != 1 || ch.Changed[0] != b3 || !slices.Equal(removed(ch.Removed), []string{"a:true"}) {
		t.Fatalf("incremental: %+v, want b at %s and a removed", ch, b3.ETag)
	}
	if again := changes(t, r, ch.Token, nil); len(again.Changed)+len(again.Removed) != 0 {
		t.Fatalf("no-change run: %+v", again)
	}
	// Tokens stay valid: replaying an old one reports the same.
	if replay := changes(t, r, start.Token, nil); fmt.Sprint(replay.Changed, replay.Removed) != fmt.Sprint(ch.Changed, ch.Removed) {
		t.Fatalf("replay: %+v, first time %+v", replay, ch)
	}
	// An id deleted and created again since the token is changed, not removed.
	create(t, r, "a", event("A again", jun1))
	if ch := changes(t, r, start.Token, nil); !slices.Equal(ids(ch.Changed), []string{"b", "a"}) || len(ch.Removed) != 0 {
		t.Fatalf("after re-creating a: %+v", ch)
	}
}

func TestNoSyncTokens(t *testing.T) {
	r := memremote.New(memremote.Options{NoSyncTokens: true})
	if r.Capabilities().SyncTokens {
		t.Fatal("SyncTokens capability set")
	}
	create(t, r, "a", event("A", jun1))
	first := changes(t, r, "", nil)
	create(t, r, "b", event("B", jun1))
	r.Remove("a")
	for _, token := range []string{first.Token, "anything"} {
		ch := changes(t, r, token, nil)
		if !ch.Full || !slices.Equal(ids(ch.Changed), []string{"b"}) || len(ch.Removed) != 0 {
			t.Fatalf("Changes(%q) without sync tokens: %+v, want a full listing of b", token, ch)
		}
	}
}

func TestFieldLimits(t *testing.T) {
	limits := map[string]int{"summary": 5, "location": 3, "displayName": 4, "note": 2}
	r := memremote.New(memremote.Options{FieldLimits: limits, Kinds: []tidbro.Kind{tidbro.KindEvent, tidbro.KindContact}})
	limits["summary"] = 99 // the remote keeps its own copy
	if got := r.Capabilities().FieldLimits; got["summary"] != 5 || len(got) != 4 {
		t.Fatalf("capabilities report limits %v", got)
	}
	it := event("Überraschungsparty", jun1)
	it.Event.Location = "Köln"
	it.Event.Description = "not limited"
	it.Event.RRule = "FREQ=DAILY;COUNT=3"
	rid := jun1.AddDate(0, 0, 1)
	it.Event.Overrides = []tidbro.Event{{RecurrenceID: &rid, Start: rid, End: rid.Add(time.Hour), Summary: "Verschoben"}}
	ref := create(t, r, "a", it)
	got := r.Get(ref.ID).Event
	if got.Summary != "Überr" || got.Location != "Köl" || got.Description != "not limited" || got.Overrides[0].Summary != "Versc" {
		t.Fatalf("after create: summary %q, location %q, description %q, override %q", got.Summary, got.Location, got.Description, got.Overrides[0].Summary)
	}
	upd := r.Get(ref.ID)
	upd.Event.Summary = "Abendessen"
	if _, err := r.Update(ctx, upd, ref.ETag); err != nil {
		t.Fatal(err)
	}
	if got := r.Get(ref.ID).Event.Summary; got != "Abend" {
		t.Fatalf("after update: summary %q", got)
	}
	put := r.Put(&tidbro.RemoteItem{Kind: tidbro.KindContact, Contact: &tidbro.Contact{DisplayName: "Ada Lovelace", Note: "note", FamilyName: "Lovelace"}})
	if c := r.Get(put.ID).Contact; c.DisplayName != "Ada " || c.Note != "no" || c.FamilyName != "Lovelace" {
		t.Fatalf("after put: %+v", c)
	}
}

func TestNoPrivate(t *testing.T) {
	r := memremote.New(memremote.Options{NoPrivate: true})
	if r.Capabilities().Private {
		t.Fatal("Private capability set")
	}
	it := event("Secret", jun1)
	it.Event.Private = true
	if ref := create(t, r, "a", it); r.Get(ref.ID).Event.Private {
		t.Fatal("private kept on create")
	}
	if ref := r.Put(it); r.Get(ref.ID).Event.Private {
		t.Fatal("private kept on put")
	}
	if !it.Event.Private {
		t.Fatal("the caller's item was changed")
	}
	if r := memremote.New(memremote.Options{}); !r.Get(create(t, r, "a", it).ID).Event.Private {
		t.Fatal("private dropped by a remote that has it")
	}
}

func TestWindowFullListing(t *testing.T) {
	r := memremote.New(memremote.Options{Kinds: []tidbro.Kind{tidbro.KindEvent}})
	create(t, r, "inside", event("in", jun1.Add(50*time.Hour)))
	series := event("weekly since March", jun1.AddDate(0, -3, 0))
	series.Event.RRule = "FREQ=WEEKLY"
	create(t, r, "series", series)
	excluded := event("the one instance in the window excluded", jun1.AddDate(0, 0, -7))
	excluded.Event.RRule = "FREQ=WEEKLY;COUNT=2"
	excluded.Event.ExDates = []time.Time{jun1}
	create(t, r, "excluded", excluded)
	create(t, r, "later", event("later", later))
	create(t, r, "before", event("before", jun1.Add(-time.Hour))) // ends as the window starts

	ch := changes(t, r, "", &week)
	if !slices.Equal(ids(ch.Changed), []string{"inside", "series"}) {
		t.Fatalf("window listing %v, want inside and series", ids(ch.Changed))
	}
	if ch := changes(t, r, "", nil); len(ch.Changed) != 5 {
		t.Fatalf("listing without a window: %v", ids(ch.Changed))
	}

	// Only events are windowed.
	tasks := memremote.New(memremote.Options{Kinds: []tidbro.Kind{tidbro.KindTask}})
	due := later
	create(t, tasks, "t", &tidbro.RemoteItem{Kind: tidbro.KindTask, Task: &tidbro.Task{Summary: "t", Due: &due}})
	if ch := changes(t, tasks, "", &week); len(ch.Changed) != 1 {
		t.Fatal("a task was windowed")
	}
}

// TestWindowIncremental: items entering, leaving, changing outside and
// deleted inside the window, as each flavour reports them.
func TestWindowIncremental(t *testing.T) {
	for _, tc := range []struct {
		opts    memremote.Options
		changed []string
		removed []string
	}{
		// CalDAV reports every change of an item it had in the window.
		{memremote.Options{}, []string{"leaving", "entering"}, []string{"deleted:true"}},
		// Graph's calendarView delta cannot tell leaving from deleted.
		{memremote.Options{ServerIDs: true, WindowedRemovals: true}, []string{"entering"}, []string{"leaving:false", "deleted:true"}},
	} {
		t.Run(fmt.Sprintf("WindowedRemovals=%v", tc.opts.WindowedRemovals), func(t *testing.T) {
			r := memremote.New(tc.opts)
			name := map[string]string{} // id → name
			put := func(n string, start time.Time) {
				id := ""
				for k, v := range name {
					if v == n {
						id = k
					}
				}
				it := event(n, start)
				it.ID = id
				name[r.Put(it).ID] = n
			}
			names := func(refs []tidbro.RemoteRef, rs []tidbro.Removed) ([]string, []string) {
				var c, d []string
				for _, x := range refs {
					c = append(c, name[x.ID])
				}
				for _, x := range rs {
					d = append(d, fmt.Sprintf("%s:%v", name[x.ID], x.Deleted))
				}
				return c, d
			}
			put("steady", jun1)
			put("leaving", jun1)
			put("deleted", jun1)
			put("outside", later)
			put("entering", later)
			start := changes(t, r, "", &week)
			if c, _ := names(start.Changed, nil); !slices.Equal(c, []string{"steady", "leaving", "deleted"}) {
				t.Fatalf("start: %v", c)
			}

			put("leaving", later)
			for id, n := range name {
				if n == "deleted" {
					r.Remove(id)
				}
			}
			put("outside", later.Add(time.Hour))
			put("entering", jun1)
			ch := changes(t, r, start.Token, &week)
			c, d := names(ch.Changed, ch.Removed)
			if !slices.Equal(c, tc.changed) || !slices.Equal(d, tc.removed) || ch.Full {
				t.Fatalf("incremental: changed %v, removed %v; want %v, %v", c, d, tc.changed, tc.removed)
			}
			if again := changes(t, r, ch.Token, &week); len(again.Changed)+len(again.Removed) != 0 {
				t.Fatalf("no-change run: %+v", again)
			}
			if replay := changes(t, r, start.Token, &week); fmt.Sprint(replay.Changed, replay.Removed) != fmt.Sprint(ch.Changed, ch.Removed) {
				t.Fatalf("replaying the first token: %+v, first time %+v", replay, ch)
			}
			// The token remembers what is in the window: leaving comes back, entering leaves.
			put("leaving", jun1)
			put("entering", later)
			back := changes(t, r, ch.Token, &week)
			c, d = names(back.Changed, back.Removed)
			wantC, wantD := []string{"leaving", "entering"}, []string(nil)
			if tc.opts.WindowedRemovals {
				wantC, wantD = []string{"leaving"}, []string{"entering:false"}
			}
			if !slices.Equal(c, wantC) || !slices.Equal(d, wantD) {
				t.Fatalf("second round: changed %v, removed %v; want %v, %v", c, d, wantC, wantD)
			}

			// A token issued without a window learns what is in the window
			// when first used with one: a change outside it is not reported.
			if !tc.opts.WindowedRemovals {
				plain := changes(t, r, "", nil)
				mid := changes(t, r, plain.Token, &week)
				put("outside", later.Add(2*time.Hour))
				if ch := changes(t, r, mid.Token, &week); len(ch.Changed)+len(ch.Removed) != 0 {
					c, d := names(ch.Changed, ch.Removed)
					t.Fatalf("change outside the window reported: %v %v", c, d)
				}
			}

			// Graph's tokens belong to their window.
			other := tidbro.TimeRange{From: week.From, To: week.To.Add(time.Hour)}
			for _, w := range []*tidbro.TimeRange{&other, nil} {
				_, err := r.Changes(ctx, back.Token, w)
				if tc.opts.WindowedRemovals {
					wantCode(t, err, tidbro.EINVALID)
				} else if err != nil {
					t.Fatalf("CalDAV-like token with another window: %v", err)
				}
			}
		})
	}
}

func TestWrites(t *testing.T) {
	r := memremote.New(memremote.Options{})
	_, err := r.Create(ctx, "t", &tidbro.RemoteItem{Kind: tidbro.KindTask, Task: &tidbro.Task{Summary: "t"}})
	wantCode(t, err, tidbro.EINVALID) // not a task list
	_, err = r.Create(ctx, "x", &tidbro.RemoteItem{Kind: tidbro.KindEvent})
	wantCode(t, err, tidbro.EINVALID) // no body
	bad := event("ends before it starts", jun1)
	bad.Event.End = jun1.Add(-time.Hour)
	_, err = r.Create(ctx, "x", bad)
	wantCode(t, err, tidbro.EINVALID)
	_, err = r.Create(ctx, "", event("no key", jun1))
	wantCode(t, err, tidbro.EINVALID)
	if r.Len() != 0 {
		t.Fatal("a refused create wrote")
	}

	job := event("job", jun1)
	job.Kind = tidbro.KindJob
	ref := create(t, r, "job", job)
	if got := r.Get(ref.ID); got.Kind != tidbro.KindEvent {
		t.Fatalf("a job is stored as a %s, want an event", got.Kind)
	}

	missing := event("missing", jun1)
	missing.ID = "missing"
	_, err = r.Update(ctx, missing, "whatever")
	wantCode(t, err, tidbro.ENOTFOUND)
	upd := r.Get(ref.ID)
	_, err = r.Update(ctx, upd, "")
	wantCode(t, err, tidbro.EPRECONDITION) // Update always names the version it replaces
	upd.Kind, upd.Event, upd.Contact = tidbro.KindContact, nil, &tidbro.Contact{DisplayName: "x"}
	_, err = r.Update(ctx, upd, ref.ETag)
	wantCode(t, err, tidbro.EINVALID)
	if err := r.Delete(ctx, "missing", "stale"); err != nil {
		t.Fatalf("deleting a missing item: %v", err)
	}

	// Etags are unique per remote: a replaced item never gets an old etag back.
	seen := map[string]bool{ref.ETag: true}
	for i := range 5 {
		it := r.Get(ref.ID)
		it.Event.Summary = fmt.Sprint(i)
		next, err := r.Update(ctx, it, it.ETag)
		if err != nil || seen[next.ETag] {
			t.Fatalf("update %d: %v, etag %s", i, err, next.ETag)
		}
		seen[next.ETag] = true
	}
}

func TestExternalClient(t *testing.T) {
	now := jun1
	r := memremote.New(memremote.Options{Now: func() time.Time { return now }})
	a := r.Put(event("A", jun1))
	now = now.Add(time.Minute)
	b := r.Put(&tidbro.RemoteItem{ID: "b.ics", Event: &tidbro.Event{Summary: "B", Start: jun1}})
	if b.ID != "b.ics" || a.ID == "" || r.Len() != 2 {
		t.Fatalf("puts: %+v %+v, %d items", a, b, r.Len())
	}
	got := r.Get("b.ics")
	if got.Kind != tidbro.KindEvent || !got.Modified.Equal(now) {
		t.Fatalf("put item: kind %q, modified %v", got.Kind, got.Modified)
	}
	replaced := r.Put(&tidbro.RemoteItem{ID: "b.ics", Kind: tidbro.KindEvent, Event: &tidbro.Event{Summary: "B2", Start: jun1}})
	if replaced.ETag == b.ETag || r.Get("b.ics").Event.Summary != "B2" || r.Len() != 2 {
		t.Fatal("put did not replace")
	}
	items := r.Items()
	if len(items) != 2 || items[0].ID > items[1].ID {
		t.Fatalf("items not sorted by id: %v", items)
	}
	r.Remove("b.ics")
	r.Remove("b.ics")
	if r.Get("b.ics") != nil || r.Len() != 1 {
		t.Fatal("remove")
	}
	// An item without the body of its kind stands for one tidbro cannot read.
	unreadable := r.Put(&tidbro.RemoteItem{Kind: tidbro.KindEvent, Raw: []byte("BEGIN:VJOURNAL")})
	items, errs, err := r.Fetch(ctx, []string{a.ID, unreadable.ID})
	if err != nil || len(items) != 1 || len(errs) != 1 || errs[0].ID != unreadable.ID {
		t.Fatalf("fetch with an unreadable item: %v, %d items, errs %v", err, len(items), errs)
	}
	if r.Requests() != 1 {
		t.Fatalf("external calls counted as requests: %d", r.Requests())
	}
}

func TestRequests(t *testing.T) {
	r := memremote.New(memremote.Options{MaxBatch: 50})
	var all []string
	for i := range 120 {
		all = append(all, r.Put(event(fmt.Sprint(i), jun1)).ID)
	}
	start := changes(t, r, "", nil)
	if r.Requests() != 1 {
		t.Fatalf("a listing cost %d requests", r.Requests())
	}
	items, _, err := r.Fetch(ctx, all)
	if err != nil || len(items) != 120 {
		t.Fatalf("fetch: %v, %d items", err, len(items))
	}
	if r.Requests() != 4 {
		t.Fatalf("fetching 120 ids in batches of 50 cost %d requests, want 3", r.Requests()-1)
	}
	_, _, _ = r.Fetch(ctx, nil)
	_ = r.Capabilities()
	if r.Requests() != 4 {
		t.Fatal("fetching nothing or reading capabilities cost a request")
	}
	// A no-change run: one Changes call, nothing to fetch.
	before := r.Requests()
	if ch := changes(t, r, start.Token, nil); len(ch.Changed) != 0 || r.Requests()-before != 1 {
		t.Fatalf("no-change run: %d changes, %d requests", len(ch.Changed), r.Requests()-before)
	}
	// Failed calls cost a request too; cancelled ones are never sent.
	r.SetFault(func(memremote.Op, string) memremote.FaultAction { return memremote.Fail })
	_, _ = r.Changes(ctx, "", nil)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.Changes(cancelled, "", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Changes: %v", err)
	}
	if _, err := r.Create(cancelled, "x", event("x", jun1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Create: %v", err)
	}
	if r.Requests()-before != 2 {
		t.Fatalf("a failed and two cancelled calls cost %d requests, want 1", r.Requests()-before-1)
	}
}

func TestModifiedFromClock(t *testing.T) {
	now := jun1
	r := memremote.New(memremote.Options{Now: func() time.Time { return now }})
	ref := create(t, r, "a", event("A", jun1))
	if got := r.Get(ref.ID).Modified; !got.Equal(jun1) {
		t.Fatalf("modified %v, want %v", got, jun1)
	}
	now = now.Add(time.Hour)
	upd := r.Get(ref.ID)
	if _, err := r.Update(ctx, upd, ref.ETag); err != nil {
		t.Fatal(err)
	}
	if got := r.Get(ref.ID).Modified; !got.Equal(now) {
		t.Fatalf("modified after update %v, want %v", got, now)
	}
	if got := memremote.New(memremote.Options{}).Put(event("x", jun1)); got.ETag == "" {
		t.Fatal("no etag with the default clock")
	}
}

func TestConcurrentUse(t *testing.T) {
	r := memremote.New(memremote.Options{ServerIDs: true})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			token := ""
			for i := range 50 {
				key := fmt.Sprintf("%d-%d", g, i%25) // every key twice: the second create dedups
				ref, err := r.Create(ctx, key, event(key, jun1))
				if err != nil {
					t.Error(err)
					return
				}
				it := r.Get(ref.ID)
				it.Event.Summary += "!"
				if _, err := r.Update(ctx, it, it.ETag); err != nil && tidbro.ErrorCode(err) != tidbro.EPRECONDITION {
					t.Error(err)
				}
				ch, err := r.Changes(ctx, token, &week)
				if err != nil {
					t.Error(err)
					return
				}
				token = ch.Token
				if _, _, err := r.Fetch(ctx, ids(ch.Changed)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if r.Len() != 8*25 {
		t.Fatalf("%d items, want %d", r.Len(), 8*25)
	}
}
