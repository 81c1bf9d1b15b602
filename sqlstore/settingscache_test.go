package sqlstore

import (
	"strconv"
	"testing"
	"time"
)

// SetSettingTTL sets how long s's Setting answers from memory.
func SetSettingTTL(s *Store, ttl time.Duration) {
	c := &s.settings
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ttl = ttl
}

// TestSettingsCacheBound fills the cache: a full cache first forgets its
// stale entries, and all of them when none is stale.
func TestSettingsCacheBound(t *testing.T) {
	var c settingsCache
	put := func(i int, begun time.Time) {
		k := settingKey{1, strconv.Itoa(i)}
		_, _, gen, _, _ := c.get(k)
		c.put(k, gen, begun, []byte("v"), true)
	}
	stale := time.Now().Add(-2 * settingTTL)
	for i := range maxSettingEntries {
		if i%2 == 0 {
			put(i, stale)
		} else {
			put(i, time.Now())
		}
	}
	if len(c.entries) != maxSettingEntries {
		t.Fatalf("%d entries, want %d", len(c.entries), maxSettingEntries)
	}
	put(-1, time.Now())
	if n := len(c.entries); n != maxSettingEntries/2+1 {
		t.Errorf("%d entries after a put into a full cache half stale, want %d", n, maxSettingEntries/2+1)
	}
	if v, found, _, _, ok := c.get(settingKey{1, "1"}); !ok || !found || string(v) != "v" {
		t.Errorf("a fresh entry after the sweep: %q, %v, %v", v, found, ok)
	}
	for i := maxSettingEntries; len(c.entries) < maxSettingEntries; i++ {
		put(i, time.Now())
	}
	put(-2, time.Now())
	if n := len(c.entries); n != 1 {
		t.Errorf("%d entries after a put into a full cache of fresh entries, want 1", n)
	}
}
