package engine

import (
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/memremote"
)

// A run that finds nothing to do leaves only the pair's lastRun; runs
// that do something, or fail, are recorded.
func TestQuietRunsNotRecorded(t *testing.T) {
	h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{}, "alice")
	pair := h.pairs["alice"].ID
	runs := func() int {
		t.Helper()
		rs, err := h.store.Runs(h.ctx, pair, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	h.put("alice", "A1", tidbro.KindEvent, event("Visit", h.now.Add(24*time.Hour)))
	h.sync("alice", Options{})
	if n := runs(); n != 1 {
		t.Fatalf("after a run that wrote: %d runs recorded, want 1", n)
	}
	for range 3 {
		h.now = h.now.Add(5 * time.Minute)
		h.sync("alice", Options{})
	}
	p, err := h.store.Pair(h.ctx, pair)
	if err != nil {
		t.Fatal(err)
	}
	if n := runs(); n != 1 || !p.LastRun.Equal(h.now) {
		t.Fatalf("after quiet runs: %d runs recorded (want 1), lastRun %v (want %v)", n, p.LastRun, h.now)
	}
	h.remote("alice").SetFault(func(op memremote.Op, _ string) memremote.FaultAction {
		if op == memremote.OpChanges {
			return memremote.Fail
		}
		return memremote.None
	})
	if _, err := h.eng.RunPair(h.ctx, pair, Options{}); err == nil {
		t.Fatal("a run against a failing remote succeeded")
	}
	if rs, _ := h.store.Runs(h.ctx, pair, 1); runs() != 2 || rs[0].Status != tidbro.RunFailed {
		t.Fatalf("a failed run is not recorded: %d runs, last %+v", runs(), rs[0])
	}
}

// A create whose answer was lost leaves the item on the remote; when the
// app edits it before the next run, the resumed create finds the old
// version and brings it up to date (linked as it was, it stayed old for
// good: found by the SIGKILL test).
func TestResumedCreateTakesLaterEdits(t *testing.T) {
	h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{}, "alice")
	start := h.now.Add(24 * time.Hour)
	h.put("alice", "A1", tidbro.KindEvent, event("Visit", start))
	h.remote("alice").SetFault(func(op memremote.Op, _ string) memremote.FaultAction {
		if op == memremote.OpCreate {
			return memremote.FailAfter
		}
		return memremote.None
	})
	h.sync("alice", Options{})
	if items := h.remote("alice").Items(); len(items) != 1 || items[0].Event.Summary != "Visit" {
		t.Fatalf("the interrupted create: remote holds %v", items)
	}
	h.remote("alice").SetFault(nil)
	h.put("alice", "A1", tidbro.KindEvent, event("Visit (moved)", start.Add(time.Hour)))
	h.now = h.now.Add(time.Minute)
	h.sync("alice", Options{})
	items := h.remote("alice").Items()
	if len(items) != 1 || items[0].Event.Summary != "Visit (moved)" || !items[0].Event.Start.Equal(start.Add(time.Hour)) {
		t.Fatalf("after the resumed create: remote holds %+v", items[0].Event)
	}
	h.now = h.now.Add(time.Minute)
	if res := h.sync("alice", Options{}); len(res.Actions) != 0 {
		t.Errorf("a run after that still acts: %+v", res.Actions)
	}
}
