package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

func testFeed(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	other := newTenant(t, s, "other")
	olga := newUser(t, s, other.ID, "olga")
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	put(t, s, event(tn.ID, alice.ID, "a", start, time.Hour))                // 1
	put(t, s, event(tn.ID, alice.ID, "b", start, time.Hour))                // 2
	put(t, s, event(other.ID, olga.ID, "x", start, time.Hour))              // other's 1
	put(t, s, event(tn.ID, alice.ID, "c", start, time.Hour))                // 3
	put(t, s, event(tn.ID, alice.ID, "a", start.Add(time.Hour), time.Hour)) // 4: a moves to the end

	wantFeed := func(q tidbro.ChangeQuery, want ...string) {
		t.Helper()
		cs, err := s.Changes(ctx, q)
		noErr(t, err)
		if got := describe(cs); !slices.Equal(got, want) {
			t.Errorf("Changes(%+v) = %v, want %v", q, got, want)
		}
		for _, c := range cs {
			if c.Item.TenantID != q.TenantID || c.Item.Owner == "" || c.User == "" || c.Item.Seq < c.Seq || c.Item.Version < c.Version {
				t.Errorf("change at %d carries %+v", c.Seq, c.Item)
			}
		}
	}
	// A log: every write is an entry; a's second write supersedes its first.
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID}, "a@1", "b@2", "c@3", "a@4")
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, Limit: 2}, "a@1", "b@2")
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, Since: 3}, "a@4")
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, Since: 2, Limit: 1}, "c@3")
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, Since: 4})
	if cs := changes(t, s, tidbro.ChangeQuery{TenantID: tn.ID}); cs[0].Latest() || cs[0].Version != 1 || !cs[3].Latest() || cs[3].Version != 2 {
		t.Errorf("a's entries: first latest=%v v%d, second latest=%v v%d", cs[0].Latest(), cs[0].Version, cs[3].Latest(), cs[3].Version)
	}
	// Tenants have feeds of their own.
	wantFeed(tidbro.ChangeQuery{TenantID: other.ID}, "x@1")
	if h1, h2 := head(t, s, tn.ID), head(t, s, other.ID); h1 != 4 || h2 != 1 {
		t.Errorf("heads = %d, %d; want 4, 1", h1, h2)
	}

	_, err := s.DeleteItem(ctx, tn.ID, tidbro.KindEvent, "b", tidbro.Precondition{}, tidbro.OriginApp)
	noErr(t, err)
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID}, "a@1", "b@2", "c@3", "a@4", "-b@5")
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, Since: 4}, "-b@5")

	put(t, s, contact(tn.ID, alice.ID, "k")) // 6
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, Kind: tidbro.KindContact}, "k@6")
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, Kind: tidbro.KindEvent, Since: 3}, "a@4", "-b@5")

	// Paging with the default and a small limit reads the same feed.
	all := changes(t, s, tidbro.ChangeQuery{TenantID: tn.ID})
	small := changes(t, s, tidbro.ChangeQuery{TenantID: tn.ID, Limit: 1})
	if a, b := describe(all), describe(small); !slices.Equal(a, b) || len(a) != 6 {
		t.Errorf("feed read whole %v, by ones %v", a, b)
	}
}

// testOwnerFeed follows an item reassigned from alice to bob and back.
func testOwnerFeed(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	want := func(u *tidbro.User, since int64, want ...string) {
		t.Helper()
		cs := changes(t, s, tidbro.ChangeQuery{TenantID: tn.ID, OwnerID: u.ID, Kind: tidbro.KindEvent, Since: since})
		for _, c := range cs {
			if c.UserID != u.ID || c.User != u.Username {
				t.Errorf("%s's feed holds %s's change %s@%d", u.Username, c.User, c.Item.AppID, c.Seq)
			}
		}
		if got := describe(cs); !slices.Equal(got, want) {
			t.Errorf("%s's feed since %d = %v, want %v", u.Username, since, got, want)
		}
	}

	x := event(tn.ID, alice.ID, "x", start, time.Hour)
	put(t, s, x)                                             // 1
	put(t, s, event(tn.ID, alice.ID, "y", start, time.Hour)) // 2
	put(t, s, contact(tn.ID, alice.ID, "k"))                 // 3, another kind
	want(alice, 0, "x@1", "y@2")
	want(bob, 0)

	x.OwnerID = bob.ID
	put(t, s, x) // 4: gone from alice's, 5: arrived in bob's
	want(alice, 0, "x@1", "y@2", "~x@4")
	want(alice, 2, "~x@4")
	want(alice, 4)
	want(bob, 0, "x@5")

	x.Event.Summary = "edited by bob"
	put(t, s, x) // 6
	want(alice, 4)
	want(bob, 0, "x@5", "x@6")

	x.OwnerID = alice.ID
	put(t, s, x) // 7, 8: back with alice
	want(alice, 4, "x@8")
	want(bob, 0, "x@5", "x@6", "~x@7")

	x.OwnerID = bob.ID
	put(t, s, x) // 9, 10: away again
	want(alice, 0, "x@1", "y@2", "~x@4", "x@8", "~x@9")
	want(bob, 7, "x@10")

	_, err := s.DeleteItem(ctx, tn.ID, tidbro.KindEvent, "x", tidbro.Precondition{}, tidbro.OriginApp) // 11
	noErr(t, err)
	want(bob, 10, "-x@11")
	want(alice, 9)

	// Limits apply to the user's feed.
	cs := must(s.Changes(ctx, tidbro.ChangeQuery{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindEvent, Limit: 1}))(t)
	if got := describe(cs); !slices.Equal(got, []string{"x@1"}) {
		t.Errorf("alice's feed, limit 1 = %v", got)
	}
	// Without a kind a user's feed holds all their collections.
	if got := describe(changes(t, s, tidbro.ChangeQuery{TenantID: tn.ID, OwnerID: alice.ID, Since: 2})); !slices.Equal(got, []string{"k@3", "~x@4", "x@8", "~x@9"}) {
		t.Errorf("alice's whole feed = %v", got)
	}
	// The tenant's feed has no departures: the arrival says where the item went.
	if got := describe(changes(t, s, tidbro.ChangeQuery{TenantID: tn.ID})); !slices.Equal(got, []string{"x@1", "y@2", "k@3", "x@5", "x@6", "x@8", "x@10", "-x@11"}) {
		t.Errorf("tenant feed = %v", got)
	}
}
