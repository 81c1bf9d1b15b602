package caldav

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

// listing serves an answer of n items under /cal/, written as it goes so
// that the server holds none of it: the heap the benchmark sees is the
// client's. A sync-collection REPORT gets RFC 6578's answer, a PROPFIND
// the CTag listing of servers without it.
func listing(n int) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		propfind := r.Method == "PROPFIND"
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(http.StatusMultiStatus)
		bw := bufio.NewWriterSize(w, 64<<10)
		bw.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<d:multistatus xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">`)
		if propfind {
			bw.WriteString(`<d:response><d:href>/cal/</d:href><d:propstat><d:prop><cs:getctag>"c1"</cs:getctag><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`)
		}
		var line []byte // appended to, not Fprintf: no allocations of the server's in the figures
		for i := range n {
			line = append(line[:0], `<d:response><d:href>/cal/0b7c6a52-4c1e-9d2a-`...)
			line = strconv.AppendInt(line, int64(i), 10)
			line = append(line, `.ics</d:href><d:propstat><d:prop><d:getetag>"`...)
			line = strconv.AppendUint(line, uint64(i)*0x9e3779b97f4a7c15, 16)
			line = append(line, `"</d:getetag>`...)
			if propfind {
				line = append(line, `<d:resourcetype/>`...)
			}
			line = append(line, `</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`...)
			bw.Write(line)
		}
		if !propfind {
			fmt.Fprintf(bw, `<d:sync-token>http://example.com/sync/%d</d:sync-token>`, n)
		}
		bw.WriteString(`</d:multistatus>`)
		bw.Flush()
	}))
}

// peakHeap samples HeapInuse until stop is called, which returns the
// highest seen.
func peakHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

// A first sync's listing of 100,000 items: the peak heap it takes, by
// sync-collection and by the CTag fallback's PROPFIND.
//
//	go test ./caldav -run XXX -bench ChangesMemory -benchtime 5x -benchmem
func BenchmarkChangesMemory(b *testing.B) {
	const n = 100_000
	srv := listing(n)
	defer srv.Close()
	col, err := New(nil, srv.URL+"/cal/", "u", "p", tidbro.KindEvent)
	if err != nil {
		b.Fatal(err)
	}
	for _, token := range []string{"", ctagPrefix} {
		name := map[string]string{"": "sync-collection", ctagPrefix: "propfind"}[token]
		b.Run(name, func(b *testing.B) {
			var peak uint64
			for b.Loop() {
				b.StopTimer()
				runtime.GC()
				stop := peakHeap()
				b.StartTimer()
				ch, err := col.Changes(b.Context(), token, nil)
				b.StopTimer()
				peak = max(peak, stop())
				if err != nil || len(ch.Changed) != n || ch.Token == "" {
					b.Fatalf("%d items, token %q, %v; want %d", len(ch.Changed), ch.Token, err, n)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// The CPU a listing costs per item, client and test server together (the
// server writes from one buffer).
//
//	go test ./caldav -run XXX -bench 'Changes$' -benchmem
func BenchmarkChanges(b *testing.B) {
	const n = 10_000
	srv := listing(n)
	defer srv.Close()
	col, err := New(nil, srv.URL+"/cal/", "u", "p", tidbro.KindEvent)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		ch, err := col.Changes(b.Context(), "", nil)
		if err != nil || len(ch.Changed) != n {
			b.Fatalf("%d items, %v; want %d", len(ch.Changed), err, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/item")
}
