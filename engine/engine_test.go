package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/memremote"
)

func TestExportImportNoPingPong(t *testing.T) {
	h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{}, "alice")
	day := h.now.Add(24 * time.Hour)
	h.put("alice", "E1", tidbro.KindEvent, event("Visit", day))
	h.put("alice", "E2", tidbro.KindEvent, event("Call", day.Add(2*time.Hour)))
	res := h.sync("alice", Options{})
	if c := res.Run.Counts.Remote; c.Created != 2 || res.Run.Status != tidbro.RunOK {
		t.Fatalf("first run: %+v %s %v", res.Run.Counts, res.Run.Status, res.Errors)
	}
	r := h.remote("alice")
	if r.Len() != 2 {
		t.Fatalf("remote holds %d items", r.Len())
	}
	// A groupware user edits E1 and adds an appointment.
	var e1 *tidbro.RemoteItem
	for _, it := range r.Items() {
		if it.Event.Summary == "Visit" {
			e1 = it
		}
	}
	e1.Event.Location = "Customer site"
	r.Put(e1)
	r.Put(&tidbro.RemoteItem{Kind: tidbro.KindEvent, Event: event("Dentist", day.Add(5*time.Hour))})
	res = h.sync("alice", Options{})
	if c := res.Run.Counts.App; c.Updated != 1 || c.Created != 1 {
		t.Fatalf("second run: %+v %v", res.Run.Counts, res.Errors)
	}
	if got := h.item(tidbro.KindEvent, "E1"); got.Event.Location != "Customer site" || got.ChangedBy != tidbro.OriginGroupware {
		t.Fatalf("E1 in the app: %+v", got)
	}
	// Our own writes do not come back as changes: the next runs do nothing.
	before := r.Requests()
	for range 2 {
		res = h.sync("alice", Options{})
		c := res.Run.Counts
		if c.App != (tidbro.SideCounts{}) || c.Remote != (tidbro.SideCounts{}) {
			t.Fatalf("a no-change run did something: %+v", c)
		}
	}
	if n := r.Requests() - before; n > 2 {
		t.Fatalf("two no-change runs made %d remote requests", n)
	}
}

func TestReassignmentMovesTheJob(t *testing.T) {
	h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{}, "anna", "bo")
	job := h.put("anna", "J1", tidbro.KindJob, event("Repair", h.now.Add(48*time.Hour)))
	h.sync("anna", Options{})
	h.sync("bo", Options{})
	if h.remote("anna").Len() != 1 || h.remote("bo").Len() != 0 {
		t.Fatal("the job is not in Anna's calendar only")
	}
	h.put("bo", "J1", tidbro.KindJob, job.Event) // reassigned in the app
	h.sync("anna", Options{})
	h.sync("bo", Options{})
	if h.remote("anna").Len() != 0 || h.remote("bo").Len() != 1 {
		t.Fatalf("after reassignment anna has %d, bo %d", h.remote("anna").Len(), h.remote("bo").Len())
	}
}

func TestTruncatedSubjectNeverOverwritesTheApp(t *testing.T) {
	h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{FieldLimits: map[string]int{"summary": 12}}, "alice")
	long := "Quarterly review with the whole regional sales team"
	h.put("alice", "E1", tidbro.KindEvent, event(long, h.now.Add(24*time.Hour)))
	h.sync("alice", Options{})
	r := h.remote("alice").Items()[0]
	if r.Event.Summary != long[:12] {
		t.Fatalf("remote holds %q", r.Event.Summary)
	}
	r.Event.Location = "Room 4" // an edit of another field in groupware
	h.remote("alice").Put(r)
	h.sync("alice", Options{})
	got := h.item(tidbro.KindEvent, "E1")
	if got.Event.Summary != long || got.Event.Location != "Room 4" {
		t.Fatalf("app holds %q at %q", got.Event.Summary, got.Event.Location)
	}
	if res := h.sync("alice", Options{}); res.Run.Counts.Remote.Updated != 0 {
		t.Fatal("the truncated echo caused a remote update")
	}
}

func TestLostCreateResponseMakesNoDuplicate(t *testing.T) {
	for _, serverIDs := range []bool{false, true} {
		h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{ServerIDs: serverIDs}, "alice")
		h.put("alice", "E1", tidbro.KindEvent, event("Visit", h.now.Add(24*time.Hour)))
		r := h.remote("alice")
		r.SetFault(func(op memremote.Op, _ string) memremote.FaultAction {
			if op == memremote.OpCreate {
				return memremote.FailAfter
			}
			return memremote.None
		})
		if res := h.sync("alice", Options{}); len(res.Errors) != 1 || res.Run.Status != tidbro.RunErrors {
			t.Fatalf("lost response: %v %s", res.Errors, res.Run.Status)
		}
		r.SetFault(nil)
		h.sync("alice", Options{})
		h.sync("alice", Options{})
		if r.Len() != 1 {
			t.Fatalf("serverIDs=%v: %d remote items after a lost create response", serverIDs, r.Len())
		}
	}
}

func TestHeldDeletionWaitsForDecision(t *testing.T) {
	p := tidbro.DefaultPolicy()
	p.Deletions = tidbro.DeletionsHold
	h := newHarness(t, p, memremote.Options{}, "alice")
	h.put("alice", "E1", tidbro.KindEvent, event("Visit", h.now.Add(24*time.Hour)))
	h.sync("alice", Options{})
	r := h.remote("alice")
	r.Remove(r.Items()[0].ID)
	if res := h.sync("alice", Options{}); res.Run.Counts.App.Held != 1 {
		t.Fatalf("not held: %+v", res.Run.Counts)
	}
	if h.item(tidbro.KindEvent, "E1") == nil {
		t.Fatal("a held deletion deleted the app item")
	}
	holds, err := h.store.Holds(h.ctx, h.tenant.ID, h.users["alice"].ID)
	if err != nil || len(holds) != 1 || holds[0].Side != "groupware" {
		t.Fatalf("holds %v %v", holds, err)
	}
	if err := h.store.DecideHold(h.ctx, h.tenant.ID, h.users["alice"].ID, holds[0].ID, tidbro.DecisionRestore); err != nil {
		t.Fatal(err)
	}
	h.sync("alice", Options{})
	if r.Len() != 1 {
		t.Fatal("restore decision did not bring the remote item back")
	}
	if holds, _ := h.store.Holds(h.ctx, h.tenant.ID, h.users["alice"].ID); len(holds) != 0 {
		t.Fatalf("hold left after its decision ran: %v", holds)
	}
}

func TestMassDeletionStopsTheRun(t *testing.T) {
	h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{}, "alice")
	for i := range 20 {
		h.put("alice", "E"+string(rune('A'+i)), tidbro.KindEvent, event("x", h.now.Add(time.Duration(i+1)*time.Hour)))
	}
	h.sync("alice", Options{})
	r := h.remote("alice")
	for _, it := range r.Items() {
		r.Remove(it.ID)
	}
	res := h.sync("alice", Options{})
	if res.Run.Status != tidbro.RunStopped || !strings.Contains(res.Run.Error, "nothing was changed") {
		t.Fatalf("status %s: %s", res.Run.Status, res.Run.Error)
	}
	if h.item(tidbro.KindEvent, "EA") == nil {
		t.Fatal("a stopped run deleted app items")
	}
	res = h.sync("alice", Options{AllowMassDelete: true})
	if res.Run.Counts.App.Deleted != 20 {
		t.Fatalf("allowed run: %+v", res.Run.Counts)
	}
}

func TestFullRunMatchesAFilledCalendar(t *testing.T) {
	h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{}, "alice")
	day := h.now.Add(24 * time.Hour)
	r := h.remote("alice")
	r.Put(&tidbro.RemoteItem{Kind: tidbro.KindEvent, Event: event("Visit", day)})
	r.Put(&tidbro.RemoteItem{Kind: tidbro.KindEvent, Event: event("Lunch", day.Add(3*time.Hour))})
	h.put("alice", "E1", tidbro.KindEvent, event("Visit", day))
	res := h.sync("alice", Options{Full: true})
	if r.Len() != 2 || res.Run.Counts.App.Created != 1 || res.Run.Counts.Remote.Created != 0 {
		t.Fatalf("first full run: %d remote items, %+v", r.Len(), res.Run.Counts)
	}
	// A reset ("Full sync now") duplicates nothing either.
	h.sync("alice", Options{Full: true})
	if r.Len() != 2 {
		t.Fatalf("after a second full run: %d remote items", r.Len())
	}
}

// Moving an item across the window edge moves its copy; it is never taken
// for a deletion.
func TestMovingAcrossTheWindowEdge(t *testing.T) {
	p := tidbro.DefaultPolicy()
	p.Window = &tidbro.Window{PastDays: 7, FutureDays: 30}
	for _, ro := range []memremote.Options{{}, {ServerIDs: true, WindowedRemovals: true}} {
		h := newHarness(t, p, ro, "alice")
		h.put("alice", "E1", tidbro.KindEvent, event("Visit", h.now.Add(24*time.Hour)))
		h.sync("alice", Options{})
		later := h.now.AddDate(0, 3, 0)
		h.put("alice", "E1", tidbro.KindEvent, event("Visit", later)) // the app moves it beyond the window
		h.sync("alice", Options{})
		r := h.remote("alice")
		if items := r.Items(); len(items) != 1 || !items[0].Event.Start.Equal(later) {
			t.Fatalf("%+v: the remote copy did not follow the app out of the window: %v", ro, items)
		}
		// Groupware moves it back in; the app follows.
		it := r.Items()[0]
		it.Event.Start, it.Event.End = h.now.Add(48*time.Hour), h.now.Add(49*time.Hour)
		r.Put(it)
		h.sync("alice", Options{})
		if got := h.item(tidbro.KindEvent, "E1"); got == nil || !got.Event.Start.Equal(it.Event.Start) {
			t.Fatalf("%+v: the app did not follow groupware back into the window: %+v", ro, got)
		}
		// Groupware moves it out; the app follows, nothing is deleted.
		it = r.Items()[0]
		it.Event.Start, it.Event.End = later, later.Add(time.Hour)
		r.Put(it)
		h.sync("alice", Options{})
		if got := h.item(tidbro.KindEvent, "E1"); got == nil || !got.Event.Start.Equal(later) {
			t.Fatalf("%+v: after groupware moved it out of the window the app holds %+v", ro, got)
		}
		if r.Len() != 1 {
			t.Fatalf("%+v: remote holds %d items", ro, r.Len())
		}
	}
}

// An item the remote cannot hand over is neither deleted nor forgotten.
func TestUnreadableRemoteItemIsRetriedNotDeleted(t *testing.T) {
	h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{}, "alice")
	h.put("alice", "E1", tidbro.KindEvent, event("Visit", h.now.Add(24*time.Hour)))
	h.sync("alice", Options{})
	r := h.remote("alice")
	it := r.Items()[0]
	it.Event.Location = "Site"
	r.Put(it)
	r.SetFault(func(op memremote.Op, _ string) memremote.FaultAction {
		if op == memremote.OpFetch {
			return memremote.Reject
		}
		return memremote.None
	})
	if res := h.sync("alice", Options{}); len(res.Errors) != 1 {
		t.Fatalf("errors %v", res.Errors)
	}
	if h.item(tidbro.KindEvent, "E1") == nil {
		t.Fatal("an unreadable remote item deleted the app item")
	}
	r.SetFault(nil)
	h.sync("alice", Options{})
	if got := h.item(tidbro.KindEvent, "E1"); got.Event.Location != "Site" {
		t.Fatalf("the edit behind the unreadable item was lost: %+v", got.Event)
	}
}

// staleHead makes a run see a head older than the user's newest change, as
// when the user writes while the run starts.
type staleHead struct {
	tidbro.Store
	head int64
}

func (s staleHead) Head(context.Context, int64) (int64, error) { return s.head, nil }

func TestFeedWrittenDuringTheRunEnds(t *testing.T) {
	h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{}, "a", "b")
	h.put("b", "B1", tidbro.KindEvent, event("x", h.now.Add(time.Hour)))
	h.put("b", "B2", tidbro.KindEvent, event("y", h.now.Add(time.Hour)))
	h.put("a", "A1", tidbro.KindEvent, event("z", h.now.Add(time.Hour))) // after the head the run sees
	eng := *h.eng
	eng.Store = staleHead{Store: h.store, head: 2}
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	if _, err := eng.RunPair(ctx, h.pairs["a"].ID, Options{}); err != nil {
		t.Fatalf("run: %v", err)
	}
	h.sync("a", Options{})
	if h.remote("a").Len() != 1 {
		t.Fatal("the change written during the first run was not synchronised by the next")
	}
}
