package sqlstore

import (
	"sync"
	"time"
)

// memoTTL bounds how long a memo answers for the database, and so how late
// the store sees a write it learns of only through the database (another
// process, another instance).
const memoTTL = 5 * time.Second

// maxMemoEntries bounds the memory of a memo.
const maxMemoEntries = 10000

// memo keeps what reads found, by key, each with the time its read began:
// the users of verified app passwords (UserByAppPassword), the tenants'
// settings (Setting). drop forgets it all, after a write commits; gen,
// which drop advances, keeps a read that began before the drop from
// putting back what it may have read before that write.
type memo[K comparable, V any] struct {
	ttl     time.Duration // 0 is memoTTL; tests shorten it
	mu      sync.Mutex
	gen     uint64
	entries map[K]memoEntry[V]
}

type memoEntry[V any] struct {
	v     V
	begun time.Time // when the read of v began
}

func (c *memo[K, V]) fresh(e memoEntry[V], now time.Time) bool {
	ttl := c.ttl
	if ttl == 0 {
		ttl = memoTTL
	}
	return now.Sub(e.begun) < ttl
}

// get returns the fresh value kept for k, with ok; or, without, what a
// read of it then passes to put.
func (c *memo[K, V]) get(k K) (v V, ok bool, gen uint64, now time.Time) {
	now = time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, kept := c.entries[k]; kept && c.fresh(e, now) {
		return e.v, true, 0, now
	}
	return v, false, c.gen, now
}

// put keeps v for k, unless a drop came after the get that gave gen. When
// full it first forgets stale entries, or all.
func (c *memo[K, V]) put(k K, gen uint64, begun time.Time, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.entries == nil {
		c.entries = map[K]memoEntry[V]{}
	}
	if len(c.entries) >= maxMemoEntries {
		now := time.Now()
		for k, e := range c.entries {
			if !c.fresh(e, now) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxMemoEntries {
			clear(c.entries)
		}
	}
	c.entries[k] = memoEntry[V]{v: v, begun: begun}
}

// drop forgets everything kept. Writes that may make a kept value stale
// call it after they commit (or fail).
func (c *memo[K, V]) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}

// setTTL is for the tests.
func (c *memo[K, V]) setTTL(ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ttl = ttl
}
