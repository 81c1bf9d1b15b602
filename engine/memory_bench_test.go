package engine

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/memremote"
)

// BenchmarkFirstRunMemory measures the peak heap of a pair's first run of
// n new app events into an empty remote (a real SQLite store): the memory
// the benchmark harness's "100k items within 256 MB" target is about,
// without the protocol. The heap is sampled every 10 ms while the run
// lasts. Against memremote the peak includes the remote's own copy of
// every item, which a real server holds in its own process: end-heap, the
// live heap after the run with its result dropped, is mostly that copy.
// Against sink (a remote that keeps only the ids it was given), the peak
// is the engine's and the store's own. cpu-µs/item is the process's CPU
// time over the run, per item.
//
//	go test ./engine -run XXX -bench FirstRunMemory -benchtime 1x
func BenchmarkFirstRunMemory(b *testing.B) {
	for _, remote := range []string{"mem", "sink"} {
		for _, n := range []int{20_000, 50_000, 100_000} {
			b.Run(fmt.Sprintf("remote=%s/n=%d", remote, n), func(b *testing.B) {
				var peak, base, end uint64
				var cpu time.Duration
				for range b.N {
					b.StopTimer()
					h := newHarness(b, tidbro.DefaultPolicy(), memremote.Options{}, "alice")
					if remote == "sink" {
						s := &sink{}
						h.eng.Connect = func(context.Context, *tidbro.Account, *tidbro.Pair, bool) (tidbro.Remote, error) { return s, nil }
					}
					for i, ev := range memEvents(h.now, n) {
						h.put("alice", fmt.Sprintf("E%d", i), tidbro.KindEvent, ev)
					}
					base = liveHeap()
					stop := sampleHeap(&peak)
					cpu0 := cpuTime()
					b.StartTimer()
					res := h.sync("alice", Options{})
					b.StopTimer()
					cpu += cpuTime() - cpu0
					stop()
					if res.Run.Counts.Remote.Created != n {
						b.Fatalf("created %d, want %d", res.Run.Counts.Remote.Created, n)
					}
					res = nil
					end = liveHeap()
					runtime.KeepAlive(h)
				}
				const mib = 1 << 20
				b.ReportMetric(float64(peak)/mib, "peak-heap-MiB")
				b.ReportMetric(float64(base)/mib, "base-heap-MiB")
				b.ReportMetric(float64(end)/mib, "end-heap-MiB")
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/float64(n), "cpu-µs/item")
			})
		}
	}
}

// sink is a remote that takes creates and keeps only their ids, for
// measuring a first run's own memory: a real server holds the items in
// its own process. Its listings are the ids created, all with one etag.
type sink struct {
	mu  sync.Mutex
	ids []string
}

func (s *sink) Capabilities() tidbro.Capabilities {
	return tidbro.Capabilities{SyncTokens: true, Private: true}
}

func (s *sink) Changes(_ context.Context, token string, _ *tidbro.TimeRange) (*tidbro.RemoteChanges, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := &tidbro.RemoteChanges{Full: token == "", Token: fmt.Sprint(len(s.ids))}
	from := 0
	if token != "" {
		fmt.Sscan(token, &from)
	}
	for _, id := range s.ids[from:] {
		ch.Changed = append(ch.Changed, tidbro.RemoteRef{ID: id, ETag: sinkETag})
	}
	return ch, nil
}

const sinkETag = `"1"`

func (s *sink) Fetch(context.Context, []string) ([]*tidbro.RemoteItem, []tidbro.ItemError, error) {
	return nil, nil, nil
}

func (s *sink) Create(_ context.Context, key string, _ *tidbro.RemoteItem) (tidbro.RemoteRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = append(s.ids, key)
	return tidbro.RemoteRef{ID: key, ETag: sinkETag}, nil
}

func (s *sink) Update(context.Context, *tidbro.RemoteItem, string) (tidbro.RemoteRef, error) {
	return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EINVALID, "sink: no updates")
}

func (s *sink) Delete(context.Context, string, string) error {
	return tidbro.Errorf(tidbro.EINVALID, "sink: no deletions")
}

// cpuTime is the process's CPU time so far (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// liveHeap is the heap in use right after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// sampleHeap records into peak the largest HeapInuse seen until stop.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			*peak = max(*peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// memEvents are n events shaped like the benchmark harness's (bench.Events):
// a description, a location, a zone, most with an alarm, one in ten a
// weekly series with a moved occurrence.
func memEvents(now time.Time, n int) []*tidbro.Event {
	zones := []string{"Europe/Stockholm", "Europe/Berlin", "America/New_York", "Asia/Tokyo"}
	out := make([]*tidbro.Event, n)
	for i := range n {
		start := now.Truncate(24*time.Hour).AddDate(0, 0, i*300/n-20).Add(time.Duration(8+i%9) * time.Hour)
		ev := &tidbro.Event{
			Summary:     fmt.Sprintf("Customer visit %d", i),
			Description: fmt.Sprintf("Order %d: bring the spare parts.\nCall ahead.", 10000+i),
			Location:    fmt.Sprintf("Storgatan %d, Stockholm", 1+i%90),
			Start:       start, End: start.Add(time.Duration(30+i%4*30) * time.Minute),
			TimeZone:   zones[i%len(zones)],
			Categories: []string{"Customer"},
		}
		if i%3 != 0 {
			ev.Alarms = []tidbro.Alarm{{Action: "display", Trigger: "-PT15M", Description: "Reminder"}}
		}
		if i%10 == 0 {
			ev.RRule = "FREQ=WEEKLY;COUNT=20"
			moved := ev.Start.AddDate(0, 0, 14)
			ev.Overrides = []tidbro.Event{{RecurrenceID: &moved, Start: moved.Add(time.Hour), End: moved.Add(2 * time.Hour), Summary: ev.Summary + " (moved)"}}
		}
		out[i] = ev
	}
	return out
}
