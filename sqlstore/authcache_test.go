package sqlstore

import (
	"strconv"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

// TestAuthCacheBound fills the cache: a full cache first forgets its stale
// entries, and all of them when none is stale.
func TestAuthCacheBound(t *testing.T) {
	var c authCache
	u := &tidbro.User{ID: 1, Username: "alice"}
	put := func(i int, begun time.Time) {
		_, gen, _ := c.get(strconv.Itoa(i))
		c.put(strconv.Itoa(i), gen, begun, u)
	}
	stale := time.Now().Add(-2 * authTTL)
	for i := range maxAuthEntries {
		if i%2 == 0 {
			put(i, stale)
		} else {
			put(i, time.Now())
		}
	}
	if len(c.entries) != maxAuthEntries {
		t.Fatalf("%d entries, want %d", len(c.entries), maxAuthEntries)
	}
	put(-1, time.Now())
	if n := len(c.entries); n != maxAuthEntries/2+1 {
		t.Errorf("%d entries after a put into a full cache half stale, want %d", n, maxAuthEntries/2+1)
	}
	if got, _, _ := c.get("1"); got == nil || *got != *u {
		t.Errorf("a fresh entry after the sweep: %v", got)
	}
	for i := maxAuthEntries; len(c.entries) < maxAuthEntries; i++ {
		put(i, time.Now())
	}
	put(-2, time.Now())
	if n := len(c.entries); n != 1 {
		t.Errorf("%d entries after a put into a full cache of fresh entries, want 1", n)
	}
}
