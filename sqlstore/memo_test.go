package sqlstore

import (
	"strconv"
	"testing"
	"time"
)

// TestMemoBound fills a memo: a full memo first forgets its stale entries,
// and all of them when none is stale.
func TestMemoBound(t *testing.T) {
	var c memo[string, int]
	put := func(i int, begun time.Time) {
		_, _, gen, _ := c.get(strconv.Itoa(i))
		c.put(strconv.Itoa(i), gen, begun, i)
	}
	stale := time.Now().Add(-2 * memoTTL)
	for i := range maxMemoEntries {
		if i%2 == 0 {
			put(i, stale)
		} else {
			put(i, time.Now())
		}
	}
	if len(c.entries) != maxMemoEntries {
		t.Fatalf("%d entries, want %d", len(c.entries), maxMemoEntries)
	}
	put(-1, time.Now())
	if n := len(c.entries); n != maxMemoEntries/2+1 {
		t.Errorf("%d entries after a put into a full memo half stale, want %d", n, maxMemoEntries/2+1)
	}
	if got, ok, _, _ := c.get("1"); !ok || got != 1 {
		t.Errorf("a fresh entry after the sweep: %v, %v", got, ok)
	}
	if _, ok, _, _ := c.get("2"); ok {
		t.Error("a stale entry is kept")
	}
	for i := maxMemoEntries; len(c.entries) < maxMemoEntries; i++ {
		put(i, time.Now())
	}
	put(-2, time.Now())
	if n := len(c.entries); n != 1 {
		t.Errorf("%d entries after a put into a full memo of fresh entries, want 1", n)
	}
}

// TestMemoDrop: a read that began before a drop puts nothing back.
func TestMemoDrop(t *testing.T) {
	var c memo[string, int]
	_, _, gen, begun := c.get("k")
	c.drop()
	c.put("k", gen, begun, 1)
	if _, ok, _, _ := c.get("k"); ok {
		t.Error("a read from before the drop was kept")
	}
	_, _, gen, begun = c.get("k")
	c.put("k", gen, begun, 2)
	if v, ok, _, _ := c.get("k"); !ok || v != 2 {
		t.Errorf("after the drop: %v, %v; want 2", v, ok)
	}
}
