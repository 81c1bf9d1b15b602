package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/memremote"
)

// BenchmarkPlan100k plans a pair of 100,000 linked events of which 1% changed
// on each side: the planning cost of a big calendar's incremental run (a
// full run's planning is the same loop over all entries).
func BenchmarkPlan100k(b *testing.B) {
	const n = 100_000
	in := &Input{Policy: tidbro.DefaultPolicy(), Kind: tidbro.KindEvent, Caps: tidbro.Capabilities{Private: true}, Now: now, Links: n}
	for i := range n {
		start := now.Add(time.Duration(i%5000) * time.Hour)
		app := &tidbro.Item{ID: int64(i + 1), Kind: tidbro.KindEvent, AppID: fmt.Sprintf("E%d", i), Origin: tidbro.OriginApp,
			Event: &tidbro.Event{Summary: fmt.Sprintf("Visit %d", i), Start: start, End: start.Add(time.Hour)}}
		app.Hash = app.ContentHash()
		r := &tidbro.RemoteItem{ID: fmt.Sprintf("r%d", i), ETag: "e1", Kind: tidbro.KindEvent, Event: cloneEvent(app.Event)}
		l := &tidbro.Link{ItemID: app.ID, RemoteID: r.ID, RemoteETag: "e1", AppHash: app.Hash, RemoteHash: RemoteHash(r), Origin: tidbro.OriginApp}
		e := &Entry{Link: l, App: app, Remote: r}
		switch i % 100 {
		case 0:
			l.AppHash = "older"
		case 1:
			r.Event.Location, r.ETag = "moved", "e2"
		}
		in.Entries = append(in.Entries, e)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p := in.Plan()
		if len(p.Actions) != n {
			b.Fatal(len(p.Actions))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/item")
}

// BenchmarkFirstRun measures the engine's own cost per item of a pair's
// first run (1,000 app events to an empty in-memory remote, store
// included, no network): the client-side CPU the harness's initial sync
// reports, without the protocol.
//
//	go test ./engine -run XXX -bench FirstRun -benchtime 5x -cpuprofile /tmp/cpu.out
func BenchmarkFirstRun(b *testing.B) {
	const n = 1000
	for range b.N {
		b.StopTimer()
		h := newHarness(b, tidbro.DefaultPolicy(), memremote.Options{}, "alice")
		for i := range n {
			h.put("alice", fmt.Sprintf("E%d", i), tidbro.KindEvent, event(fmt.Sprintf("Visit %d", i), h.now.Add(time.Duration(i)*time.Hour)))
		}
		b.StartTimer()
		if res := h.sync("alice", Options{}); res.Run.Counts.Remote.Created != n {
			b.Fatalf("created %d, want %d", res.Run.Counts.Remote.Created, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/n, "µs/item")
}

// BenchmarkChangedRun measures the engine's own cost per item of a run
// that updates 100 of a pair's 2,000 linked events on the remote (store
// included, no network).
//
//	go test ./engine -run XXX -bench ChangedRun -benchtime 20x -cpuprofile /tmp/cpu.out
func BenchmarkChangedRun(b *testing.B) {
	const n, changed = 2000, 100
	h := newHarness(b, tidbro.DefaultPolicy(), memremote.Options{}, "alice")
	for i := range n {
		h.put("alice", fmt.Sprintf("E%d", i), tidbro.KindEvent, event(fmt.Sprintf("Visit %d", i), h.now.Add(time.Duration(i)*time.Hour)))
	}
	h.sync("alice", Options{})
	for v := range b.N {
		b.StopTimer()
		for i := range changed {
			h.put("alice", fmt.Sprintf("E%d", i), tidbro.KindEvent, event(fmt.Sprintf("Visit %d v%d", i, v), h.now.Add(time.Duration(i)*time.Hour)))
		}
		b.StartTimer()
		if res := h.sync("alice", Options{}); res.Run.Counts.Remote.Updated != changed {
			b.Fatalf("updated %d, want %d", res.Run.Counts.Remote.Updated, changed)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/changed, "µs/item")
}
