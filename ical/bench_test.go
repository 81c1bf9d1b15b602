package ical_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/bench"
	"github.com/tidbro/tidbro/ical"
)

// Events and contacts are the harness's (package bench): zoned events,
// most with an alarm, some recurring; contacts with photos.

func benchTasks(n int) []*tidbro.Task {
	out := make([]*tidbro.Task, n)
	base := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range n {
		due := base.AddDate(0, 0, i%300)
		t := &tidbro.Task{
			UID: fmt.Sprintf("bench-task-%d", i), Summary: fmt.Sprintf("Follow up order %d", 10000+i),
			Description: "Call the customer.\nAsk about delivery, invoice; payment.", Due: &due,
			TimeZone: "Europe/Stockholm", Status: "needs-action", Priority: 1 + i%9, Categories: []string{"Sales"},
		}
		if i%4 == 0 {
			done := due.Add(time.Hour)
			t.Completed, t.Status, t.Percent = &done, "completed", 100
		}
		out[i] = t
	}
	return out
}

// The encoders run once per item a sync creates remotely: a first sync of
// a large calendar renders thousands.
func BenchmarkEncodeEvent(b *testing.B) {
	evs := bench.Events(100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := ical.EncodeEvent(evs[i%len(evs)], nil); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// Rewriting over the remote's previous version (an update) parses raw.
func BenchmarkEncodeEventRaw(b *testing.B) {
	evs := bench.Events(100)
	raws := make([][]byte, len(evs))
	for i, ev := range evs {
		var err error
		if raws[i], err = ical.EncodeEvent(ev, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := ical.EncodeEvent(evs[i%len(evs)], raws[i%len(evs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkEncodeTask(b *testing.B) {
	ts := benchTasks(100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := ical.EncodeTask(ts[i%len(ts)], nil); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkEncodeContact(b *testing.B) {
	cs := bench.Contacts(100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := ical.EncodeContact(cs[i%len(cs)], nil); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
