package remotetest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/memremote"
)

func TestSamplesAreValid(t *testing.T) {
	for _, k := range tidbro.Kinds {
		s := Sample(k, 1)
		it := s.Item(k)
		it.AppID = "sample"
		if err := it.Validate(); err != nil {
			t.Errorf("Sample(%s): %v", k, err)
		}
		// Samples are canonical: what the app side would hold.
		c, err := canonical(s)
		if err != nil || c.Item(k).ContentHash() != it.ContentHash() {
			t.Errorf("Sample(%s) is not in canonical form (%v)", k, err)
		}
		if Sample(k, 1).Item(k).ContentHash() == Sample(k, 2).Item(k).ContentHash() {
			t.Errorf("Sample(%s, 1) and Sample(%s, 2) are the same", k, k)
		}
	}
	if !Sample(tidbro.KindEvent, 1).Event.Occurs(Sample(tidbro.KindEvent, 1).Event.Overrides[0].Start, window.To) {
		t.Error("the sample event's override does not occur")
	}
}

// TestWindowFixture checks the window subtest's events against tidbro's own
// recurrence code, so that a failing remote is the remote's fault.
func TestWindowFixture(t *testing.T) {
	inside, outside := windowEvents()
	for name, e := range inside {
		if err := e.Validate(); err != nil || !e.Occurs(window.From, window.To) {
			t.Errorf("%s: %v, occurs %v; want it valid and in the window", name, err, e.Occurs(window.From, window.To))
		}
	}
	for name, e := range outside {
		if err := e.Validate(); err != nil || e.Occurs(window.From, window.To) {
			t.Errorf("%s: %v, occurs %v; want it valid and outside the window", name, err, e.Occurs(window.From, window.To))
		}
	}
	if s := inside["series"]; !s.Start.Before(window.From) {
		t.Error("the series must start before the window")
	}
}

func TestComparableForm(t *testing.T) {
	hash := func(it *tidbro.RemoteItem) string {
		c, err := comparableForm(it)
		if err != nil {
			t.Fatal(err)
		}
		return c.Item(it.Kind).ContentHash()
	}
	base := Sample(tidbro.KindEvent, 1)
	same := Sample(tidbro.KindEvent, 1)
	same.Event.UID = "assigned-by-the-server"
	same.Event.ShowAs, same.Event.Status = "busy", "confirmed"
	same.Event.Alarms[0].Action, same.Event.Alarms[0].Description = "", "Reminder"
	same.Event.Overrides[0].UID = ""
	if hash(base) != hash(same) {
		t.Error("uid, defaults or alarm descriptions make a difference")
	}
	other := Sample(tidbro.KindEvent, 1)
	other.Event.Overrides[0].Location = "elsewhere"
	if hash(base) == hash(other) {
		t.Error("a changed override location makes no difference")
	}

	limited := Sample(tidbro.KindEvent, 1)
	applyLimits(limited, map[string]int{"summary": 4, "location": 100}, true)
	e := limited.Event
	if e.Summary != "Week" || e.Overrides[0].Summary != "Week" || e.Private || e.Overrides[0].Private || e.Location != Sample(tidbro.KindEvent, 1).Event.Location {
		t.Errorf("limits applied wrongly: %q %q %v %v %q", e.Summary, e.Overrides[0].Summary, e.Private, e.Overrides[0].Private, e.Location)
	}
}

// TestSuiteCatchesBrokenRemotes runs the suite against remotes broken in one
// way each, in a child process, and checks that the subtest guarding that
// part of the contract fails.
func TestSuiteCatchesBrokenRemotes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite in child processes")
	}
	for breakage, subtest := range map[string]string{
		"duplicate-creates":    "IdempotentCreate",
		"unconditional-update": "Update",
		"unconditional-delete": "Delete",
		"empty-incremental":    "Changes",
		"garbage-is-empty":     "GarbageToken",
		"lossy-fields":         "RoundTrip",
		"first-batch-only":     "FetchBatches",
		"unknown-id-error":     "Fetch",
		"window-lists-nothing": "Window",
		"stale-etag-returned":  "OwnWritesInChanges",
	} {
		t.Run(breakage, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenRemote$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "REMOTETEST_BROKEN="+breakage)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a remote with %s", breakage)
			}
			if !strings.Contains(string(out), "--- FAIL: TestBrokenRemote/"+subtest+" ") {
				t.Fatalf("with %s, subtest %s did not fail:\n%s", breakage, subtest, out)
			}
		})
	}
}

// TestBrokenRemote is TestSuiteCatchesBrokenRemotes' child.
func TestBrokenRemote(t *testing.T) {
	breakage := os.Getenv("REMOTETEST_BROKEN")
	if breakage == "" {
		t.Skip("run by TestSuiteCatchesBrokenRemotes")
	}
	Run(t, func(t *testing.T) Harness {
		r := memremote.New(memremote.Options{})
		return Harness{Remote: &broken{Remote: r, mem: r, breakage: breakage}, Peer: r.Peer(), Kind: tidbro.KindEvent}
	})
}

// broken is a memremote with one deliberate contract violation.
type broken struct {
	tidbro.Remote
	mem      *memremote.Remote
	breakage string
	n        int
}

func (b *broken) Changes(ctx context.Context, token string, w *tidbro.TimeRange) (*tidbro.RemoteChanges, error) {
	switch {
	case b.breakage == "window-lists-nothing" && w != nil:
		ch, err := b.Remote.Changes(ctx, token, w)
		if err == nil {
			ch.Changed = nil
		}
		return ch, err
	case b.breakage == "empty-incremental" && token != "":
		return &tidbro.RemoteChanges{Token: token}, nil
	case b.breakage == "garbage-is-empty" && !strings.HasPrefix(token, "memsync-"):
		return &tidbro.RemoteChanges{Token: "memsync-0"}, nil
	}
	return b.Remote.Changes(ctx, token, w)
}

func (b *broken) Fetch(ctx context.Context, ids []string) ([]*tidbro.RemoteItem, []tidbro.ItemError, error) {
	if b.breakage == "first-batch-only" && len(ids) > b.Capabilities().MaxBatch {
		ids = ids[:b.Capabilities().MaxBatch]
	}
	items, errs, err := b.Remote.Fetch(ctx, ids)
	switch b.breakage {
	case "lossy-fields":
		for _, it := range items {
			it.Event.Categories = nil
		}
	case "unknown-id-error":
		if len(items) < len(ids) {
			err = tidbro.Errorf(tidbro.ENOTFOUND, "not found")
		}
	}
	return items, errs, err
}

func (b *broken) Create(ctx context.Context, key string, it *tidbro.RemoteItem) (tidbro.RemoteRef, error) {
	if b.breakage == "duplicate-creates" {
		b.n++
		key += "-" + strings.Repeat("x", b.n)
	}
	return b.Remote.Create(ctx, key, it)
}

func (b *broken) Update(ctx context.Context, it *tidbro.RemoteItem, ifMatch string) (tidbro.RemoteRef, error) {
	if b.breakage == "unconditional-update" {
		if cur := b.mem.Get(it.ID); cur != nil {
			ifMatch = cur.ETag
		}
	}
	ref, err := b.Remote.Update(ctx, it, ifMatch)
	if b.breakage == "stale-etag-returned" {
		ref.ETag = ifMatch
	}
	return ref, err
}

func (b *broken) Delete(ctx context.Context, id, ifMatch string) error {
	if b.breakage == "unconditional-delete" {
		ifMatch = ""
	}
	return b.Remote.Delete(ctx, id, ifMatch)
}
