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

// testConcurrentFailingWriter runs writers beside one whose every write
// fails after it took a feed position (a stale precondition, an unknown
// owner). Writers may share a transaction (group commit in SQLite): the
// failing one must get its own errors and leave nothing behind, and the
// others' writes must all be in the feed, in each writer's order, at
// positions without gaps.
func testConcurrentFailingWriter(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	const writers, perWriter = 6, 40
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	put(t, s, event(tn.ID, alice.ID, "taken", start, time.Hour))

	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range perWriter {
			it := event(tn.ID, alice.ID, "taken", start.Add(time.Duration(i)*time.Hour), time.Hour)
			_, _, err := s.PutItem(ctx, it, tidbro.Precondition{IfNoneMatch: true})
			if code := tidbro.ErrorCode(err); code != tidbro.EPRECONDITION {
				t.Errorf("failing writer, write %d over a live item: %v (code %q), want %q", i, err, code, tidbro.EPRECONDITION)
			}
			it = event(tn.ID, alice.ID, fmt.Sprintf("nobody-%02d", i), start, time.Hour)
			it.OwnerID = alice.ID + 1000
			_, _, err = s.PutItem(ctx, it, tidbro.Precondition{})
			if code := tidbro.ErrorCode(err); code != tidbro.EINVALID {
				t.Errorf("failing writer, write %d for an unknown owner: %v (code %q), want %q", i, err, code, tidbro.EINVALID)
			}
		}
	})
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				it := event(tn.ID, alice.ID, fmt.Sprintf("w%d-%02d", w, i), start.Add(time.Duration(i)*time.Hour), time.Hour)
				if _, _, err := s.PutItem(ctx, it, tidbro.Precondition{}); err != nil {
					t.Errorf("writer %d, write %d: %v", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	all := changes(t, s, tidbro.ChangeQuery{TenantID: tn.ID})
	if len(all) != 1+writers*perWriter {
		t.Fatalf("feed holds %d changes, want %d: %v", len(all), 1+writers*perWriter, describe(all))
	}
	next := make([]int, writers)
	for i, c := range all {
		if c.Seq != int64(i)+1 {
			t.Fatalf("feed position %d is %d; want positions without gaps (a failed write gives its position back)", i, c.Seq)
		}
		if i == 0 {
			continue
		}
		var w, n int
		if _, err := fmt.Sscanf(c.Item.AppID, "w%d-%d", &w, &n); err != nil || w >= writers {
			t.Fatalf("feed entry %s@%d is none of the succeeding writers'", c.Item.AppID, c.Seq)
		}
		if n != next[w] {
			t.Fatalf("feed entry %s@%d: writer %d's write %d comes before its write %d", c.Item.AppID, c.Seq, w, n, next[w])
		}
		next[w]++
	}
	if got := must(s.Item(ctx, tn.ID, tidbro.KindEvent, "taken"))(t); got.Version != 1 {
		t.Errorf("the item the failing writer wrote over is at version %d, want 1", got.Version)
	}
}
