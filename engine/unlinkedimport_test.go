package engine

import (
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/memremote"
)

// An import whose link a crash lost, then marked private in the app, on a
// remote that cannot mark items private (property seed 4785). Had the link
// been written, the app edit would take the groupware copy back (it would
// show there unmarked); the crash must not change that: the groupware item
// was left linked to nothing for good, its import linked to nothing while
// its source still existed, and every later run quiet.
func TestUnlinkedImportMadePrivate(t *testing.T) {
	for _, crash := range []bool{false, true} {
		t.Run(map[bool]string{false: "linked", true: "link lost"}[crash], func(t *testing.T) { unlinkedImportMadePrivate(t, crash) })
	}
}

func unlinkedImportMadePrivate(t *testing.T, crash bool) {
	h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{NoPrivate: true}, "alice")
	h.eng.Parallel = 1
	h.sync("alice", Options{}) // the first run: nothing yet
	r := h.remote("alice")
	ref := r.Put(&tidbro.RemoteItem{Kind: tidbro.KindEvent, Event: event("Visit", h.now.Add(24*time.Hour))})

	// The import writes the app item, and the process dies before its link.
	eng := *h.eng
	if crash {
		eng.Store = &crashStore{Store: h.store, after: 1}
	}
	if _, err := eng.RunPair(h.ctx, h.pairs["alice"].ID, Options{}); (err != nil) != crash {
		t.Fatalf("import run: %v", err)
	}
	id := importID(h.pairs["alice"].ID, ref.ID)
	imp := h.item(tidbro.KindEvent, id)
	if imp == nil {
		t.Fatal("the crash came before the import's app write")
	}
	if ls, err := h.store.Links(h.ctx, h.pairs["alice"].ID, 0, 10); err != nil || (len(ls) == 0) != crash {
		t.Fatalf("links after the import: %v %v", ls, err)
	}

	// An app user edits the import and marks it private.
	ev := *imp.Event
	ev.Summary += "+"
	ev.Private = true
	h.put("alice", id, tidbro.KindEvent, &ev)

	res := h.sync("alice", Options{})
	if len(res.Errors) > 0 {
		t.Fatalf("run: %v", res.Errors)
	}
	if rem := r.Items(); len(rem) != 0 {
		t.Fatalf("groupware still shows the now private item, unmarked: %q (%s)", rem[0].Event.Summary, describeRun(res))
	}
	if got := h.item(tidbro.KindEvent, id); got == nil || got.Deleted || !got.Event.Private || got.Event.Summary != "Visit+" {
		t.Fatalf("the app edit was lost: %+v", got)
	}
	if ls, err := h.store.Links(h.ctx, h.pairs["alice"].ID, 0, 10); err != nil || len(ls) != 0 {
		t.Fatalf("links left: %v %v", ls, err)
	}
	res = h.sync("alice", Options{})
	if c := res.Run.Counts; c.App != (tidbro.SideCounts{}) || c.Remote != (tidbro.SideCounts{}) || len(res.Errors) > 0 {
		t.Fatalf("not settled: %+v %v", c, res.Errors)
	}
}
