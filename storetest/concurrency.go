package storetest

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

// testConcurrentWriters runs writers on one tenant while a reader follows
// the feed with its cursor. Every item is written once, so an item the
// reader misses is a position that became visible after a later one.
func testConcurrentWriters(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	const writers, perWriter = 8, 50
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	done := make(chan struct{})
	type result struct {
		seen map[string]int64
		err  error
	}
	read := make(chan result, 1)
	go func() {
		seen := map[string]int64{}
		var since int64
		poll := func() error {
			for {
				cs, err := s.Changes(ctx, tidbro.ChangeQuery{TenantID: tn.ID, Since: since, Limit: 50})
				if err != nil {
					return err
				}
				for _, c := range cs {
					if c.Seq <= since {
						return fmt.Errorf("position %d after %d", c.Seq, since)
					}
					if at, ok := seen[c.Item.AppID]; ok {
						return fmt.Errorf("%s at %d and again at %d, but it was written once", c.Item.AppID, at, c.Seq)
					}
					since, seen[c.Item.AppID] = c.Seq, c.Seq
				}
				if len(cs) < 50 {
					return nil
				}
			}
		}
		for {
			select {
			case <-done:
				read <- result{seen, poll()}
				return
			default:
				if err := poll(); err != nil {
					read <- result{seen, err}
					return
				}
			}
		}
	}()

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				it := event(tn.ID, alice.ID, fmt.Sprintf("w%d-%02d", w, i), start.Add(time.Duration(i)*time.Hour), time.Hour)
				if _, _, err := s.PutItem(ctx, it, tidbro.Precondition{}); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	r := <-read
	if r.err != nil {
		t.Fatalf("reader: %v", r.err)
	}
	const total = writers * perWriter
	if len(r.seen) != total {
		t.Errorf("the reader following the feed saw %d of %d items: positions became visible out of order", len(r.seen), total)
	}

	all := changes(t, s, tidbro.ChangeQuery{TenantID: tn.ID})
	if len(all) != total {
		t.Fatalf("feed holds %d changes, want %d", len(all), total)
	}
	for i, c := range all {
		if c.Seq != int64(i)+1 {
			t.Fatalf("feed position %d is %d; want 1..%d without gaps or repeats", i, c.Seq, total)
		}
	}
	if h := head(t, s, tn.ID); h != all[len(all)-1].Seq {
		t.Errorf("Head = %d, want the newest position %d", h, all[len(all)-1].Seq)
	}
}

// testConcurrentIfMatch has workers increment a counter in one item by
// read-modify-write under IfMatch; a lost update would lose an increment.
func testConcurrentIfMatch(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	const workers, increments = 4, 10
	it := event(tn.ID, alice.ID, "counter", time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), time.Hour)
	it.Event.Description = "0"
	put(t, s, it)

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for done := 0; done < increments; {
				cur, err := s.Item(ctx, tn.ID, tidbro.KindEvent, "counter")
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
				n, _ := strconv.Atoi(cur.Event.Description)
				cur.Event.Description = strconv.Itoa(n + 1)
				_, _, err = s.PutItem(ctx, cur, tidbro.Precondition{IfMatch: cur.Version})
				switch tidbro.ErrorCode(err) {
				case "":
					done++
				case tidbro.EPRECONDITION: // someone else was first: read again
				default:
					t.Errorf("worker %d: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := must(s.Item(ctx, tn.ID, tidbro.KindEvent, "counter"))(t)
	if want := strconv.Itoa(workers * increments); got.Event.Description != want || got.Version != workers*increments+1 {
		t.Errorf("counter = %s at version %d, want %s at %d", got.Event.Description, got.Version, want, workers*increments+1)
	}
}
