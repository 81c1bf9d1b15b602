package davserver_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkIngest measures the server's ingest: clients PUT new events,
// 8 at a time, into one growing calendar.
//
//	go test ./davserver -run XXX -bench Ingest -benchtime 5000x
func BenchmarkIngest(b *testing.B) {
	env := newEnv(b)
	start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	work := make(chan int)
	var wg sync.WaitGroup
	b.ResetTimer()
	for range 8 {
		wg.Go(func() {
			for i := range work {
				uid := fmt.Sprintf("bench-%d", i)
				req, _ := http.NewRequest("PUT", env.url+"/dav/calendars/alice/calendar/"+uid+".ics", strings.NewReader(vevent("Bench", uid, start.Add(time.Duration(i)*time.Minute))))
				req.SetBasicAuth("alice", env.password["alice"])
				req.Header.Set("Content-Type", "text/calendar")
				res, err := client.Do(req)
				if err != nil || res.StatusCode != http.StatusCreated {
					b.Errorf("PUT %s: %v %v", uid, err, res)
					return
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
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
}
