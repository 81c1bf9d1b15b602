package sqlstore_test

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/sqlstore"
)

// TestSettingCache checks what Setting keeps in memory: what its own store
// writes shows at once, what another store writes within the TTL, and what
// a caller does to a value it got changes nothing kept.
func TestSettingCache(t *testing.T) {
	ctx := t.Context()
	a, b := openTwice(t)
	sqlstore.SetSettingTTL(a, time.Hour)
	tn, err := a.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	want := func(key, value, what string) {
		t.Helper()
		got, err := a.Setting(ctx, tn.ID, key)
		if err != nil || string(got) != value {
			t.Errorf("%s: Setting(%q) = %q, %v; want %q", what, key, got, err, value)
		}
	}
	wantNone := func(key, what string) {
		t.Helper()
		if got, err := a.Setting(ctx, tn.ID, key); tidbro.ErrorCode(err) != tidbro.ENOTFOUND {
			t.Errorf("%s: Setting(%q) = %q, %v; want ENOTFOUND", what, key, got, err)
		}
	}
	put := func(s *sqlstore.Store, key, value string) {
		t.Helper()
		if err := s.PutSetting(ctx, tn.ID, key, []byte(value)); err != nil {
			t.Fatal(err)
		}
	}

	// What this store writes shows at once, that a setting is unset too.
	wantNone("dav", "unset")
	put(a, "dav", "v1")
	want("dav", "v1", "set through the same store")
	got, _ := a.Setting(ctx, tn.ID, "dav")
	got[0] = 'x'
	want("dav", "v1", "after the caller changed what it got")
	put(a, "dav", "v2")
	want("dav", "v2", "changed through the same store")
	if err := a.PutSealedSetting(ctx, tn.ID, "graph", []byte("s1")); err != nil {
		t.Fatal(err)
	}
	if v, err := a.SealedSetting(ctx, tn.ID, "graph"); err != nil || string(v) != "s1" {
		t.Errorf("sealed setting: %q, %v", v, err)
	}

	// What another store writes shows once what this one keeps is older
	// than the TTL.
	want("dav", "v2", "read before another store changes it")
	wantNone("jobs", "unset, read before another store sets it")
	put(b, "jobs", "j1")
	put(b, "dav", "v3")
	wantNone("jobs", "set through another store, within the TTL")
	want("dav", "v2", "changed through another store, within the TTL")
	const ttl = 20 * time.Millisecond
	sqlstore.SetSettingTTL(a, ttl)
	time.Sleep(ttl)
	want("jobs", "j1", "set through another store, after the TTL")
	want("dav", "v3", "changed through another store, after the TTL")
}

// TestSettingCacheWriteRace changes a setting while readers read it: no
// read that begins after PutSetting returned may find the value before,
// though reads that began before may still keep what they read.
func TestSettingCacheWriteRace(t *testing.T) {
	ctx := t.Context()
	s, _ := openTwice(t)
	sqlstore.SetSettingTTL(s, time.Hour)
	tn, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		before, after := []byte{byte(2 * round)}, []byte{byte(2*round + 1)}
		if err := s.PutSetting(ctx, tn.ID, "dav", before); err != nil {
			t.Fatal(err)
		}
		var written, stop atomic.Bool
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for !stop.Load() {
					late := written.Load()
					got, err := s.Setting(ctx, tn.ID, "dav")
					if err != nil {
						t.Error(err)
						return
					}
					if late && !bytes.Equal(got, after) {
						t.Errorf("round %d: read %v after the write of %v returned", round, got, after)
						return
					}
				}
			})
		}
		time.Sleep(time.Millisecond)
		if err := s.PutSetting(ctx, tn.ID, "dav", after); err != nil {
			t.Fatal(err)
		}
		written.Store(true)
		time.Sleep(time.Millisecond)
		stop.Store(true)
		wg.Wait()
	}
}
