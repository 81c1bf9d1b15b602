package davserver_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/bench"
)

// BenchmarkIngest measures the server's ingest: clients PUT new items,
// 8 at a time, into one growing collection, with HTTP Basic and an app
// password as DAV clients log in. "minimal" PUTs events of a few lines;
// "events" and "contacts" PUT the data sets of the benchmark harness
// (package bench), with zones, alarms, series and photos. Besides the
// rate it reports the CPU time (user and system, client and server
// together) per item, which the disk's flushes do not blur the way they
// blur the rate.
//
//	go test ./davserver -run XXX -bench Ingest -benchtime 5000x
func BenchmarkIngest(b *testing.B) {
	b.Run("minimal", func(b *testing.B) {
		start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
		objects := make([][]byte, b.N)
		for i := range objects {
			objects[i] = []byte(vevent("Bench", fmt.Sprintf("bench-%d", i), start.Add(time.Duration(i)*time.Minute)))
		}
		ingest(b, "/dav/calendars/alice/calendar/bench-%d.ics", "text/calendar", objects)
	})
	b.Run("events", func(b *testing.B) {
		files, err := bench.Files(bench.Events(b.N), nil)
		if err != nil {
			b.Fatal(err)
		}
		ingest(b, "/dav/calendars/alice/calendar/bench-event-%d.ics", "text/calendar", ordered(files, "bench-event-%d.ics", b.N))
	})
	b.Run("contacts", func(b *testing.B) {
		files, err := bench.Files(nil, bench.Contacts(b.N))
		if err != nil {
			b.Fatal(err)
		}
		ingest(b, "/dav/addressbooks/alice/contacts/bench-contact-%d.vcf", "text/vcard", ordered(files, "bench-contact-%d.vcf", b.N))
	})
}

// BenchmarkIngestLarge is Ingest's "minimal" into a calendar that holds
// 100,000 events already (written through the store, which is quicker
// than through HTTP): beside Ingest/minimal it shows what more a PUT costs
// in a large collection.
//
//	go test ./davserver -run XXX -bench IngestLarge -benchtime 10000x
func BenchmarkIngestLarge(b *testing.B) {
	const size = 100000
	env := newEnv(b)
	u := env.users["alice"]
	start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < size; i += 8 {
				at, id := start.Add(time.Duration(i)*time.Minute), fmt.Sprintf("large-%d", i)
				it := &tidbro.Item{TenantID: u.TenantID, OwnerID: u.ID, Kind: tidbro.KindEvent, AppID: id, Type: tidbro.TypeGroupware,
					ChangedBy: tidbro.OriginDAVClient, Event: &tidbro.Event{UID: id, Summary: "Large", Start: at, End: at.Add(time.Hour)}}
				if _, _, err := env.store.PutDAVItem(context.Background(), it, tidbro.Precondition{IfNoneMatch: true}, "", []byte(vevent("Large", id, at))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	objects := make([][]byte, b.N)
	for i := range objects {
		objects[i] = []byte(vevent("Bench", fmt.Sprintf("bench-%d", i), start.Add(time.Duration(i)*time.Minute)))
	}
	ingestInto(b, env, "/dav/calendars/alice/calendar/bench-%d.ics", "text/calendar", objects)
}

// ordered lists files by the number in their names.
func ordered(files map[string][]byte, name string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = files[fmt.Sprintf(name, i)]
	}
	return out
}

// ingest PUTs objects[i] as alice to path i (a format with one %d), each
// as a new resource (If-None-Match: *), 8 at a time.
func ingest(b *testing.B, path, mediaType string, objects [][]byte) {
	ingestInto(b, newEnv(b), path, mediaType, objects)
}

// ingestInto is ingest into env's server.
func ingestInto(b *testing.B, env *env, path, mediaType string, objects [][]byte) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	work := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Bool
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for range 8 {
		wg.Go(func() {
			for i := range work {
				if failed.Load() {
					continue // drain the work
				}
				req, _ := http.NewRequest("PUT", env.url+fmt.Sprintf(path, i), bytes.NewReader(objects[i]))
				req.SetBasicAuth("alice", env.password["alice"])
				req.Header.Set("Content-Type", mediaType)
				req.Header.Set("If-None-Match", "*")
				res, err := client.Do(req)
				if err != nil || res.StatusCode != http.StatusCreated {
					b.Errorf("PUT %d: %v %v", i, err, res)
					failed.Store(true)
					continue
				}
				res.Body.Close()
			}
		})
	}
	for i := range b.N {
		work <- i
	}
	close(work)
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/item")
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
