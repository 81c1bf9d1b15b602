package storetest

import (
	"bytes"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

func testAppPasswords(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	beta := newTenant(t, s, "beta")
	olga := newUser(t, s, beta.ID, "olga")
	hash1, hash2, hash3, hash4 := []byte("app-hash-1"), []byte("app-hash-2"), []byte("app-hash-3"), []byte("app-hash-4")

	before := time.Now().Add(-time.Minute)
	p1 := must(s.CreateAppPassword(ctx, tn.ID, alice.ID, "iPhone", hash1))(t)
	if p1.ID == 0 || p1.TenantID != tn.ID || p1.UserID != alice.ID || p1.Name != "iPhone" ||
		p1.Created.Before(before) || p1.Created.After(time.Now().Add(time.Minute)) {
		t.Fatalf("created app password %+v", p1)
	}
	p2 := must(s.CreateAppPassword(ctx, tn.ID, alice.ID, "laptop", hash2))(t)
	p3 := must(s.CreateAppPassword(ctx, tn.ID, bob.ID, "phone", hash3))(t)
	p4 := must(s.CreateAppPassword(ctx, beta.ID, olga.ID, "phone", hash4))(t)
	if p2.ID == p1.ID || p3.ID == p2.ID || p4.ID == p3.ID {
		t.Fatalf("app passwords share ids: %d, %d, %d, %d", p1.ID, p2.ID, p3.ID, p4.ID)
	}

	if got := must(s.AppPasswordByHash(ctx, hash1))(t); !reflect.DeepEqual(got, p1) {
		t.Errorf("AppPasswordByHash = %+v, want %+v", got, p1)
	}
	if got := must(s.AppPasswordByHash(ctx, hash4))(t); !reflect.DeepEqual(got, p4) {
		t.Errorf("AppPasswordByHash(olga's) = %+v, want %+v", got, p4)
	}
	_, err := s.AppPasswordByHash(ctx, []byte("unknown"))
	wantCode(t, err, tidbro.ENOTFOUND, "unknown app password")
	// UserByAppPassword: the user behind a password, the same answers.
	wantUser := func(hash []byte, want *tidbro.User) {
		t.Helper()
		got, err := s.UserByAppPassword(ctx, hash)
		if want == nil {
			wantCode(t, err, tidbro.ENOTFOUND, "UserByAppPassword of "+string(hash))
			return
		}
		if err != nil || got.ID != want.ID || got.TenantID != want.TenantID || got.Username != want.Username {
			t.Errorf("UserByAppPassword(%s) = %+v, %v, want %+v", hash, got, err, want)
		}
	}
	wantUser(hash1, alice)
	wantUser(hash3, bob)
	wantUser(hash4, olga)
	wantUser([]byte("unknown"), nil)

	_, err = s.CreateAppPassword(ctx, tn.ID, bob.ID, "again", hash1)
	wantCode(t, err, tidbro.ECONFLICT, "app password with an existing hash")
	_, err = s.CreateAppPassword(ctx, tn.ID, alice.ID, "no secret", nil)
	wantCode(t, err, tidbro.EINVALID, "app password without a hash")
	_, err = s.CreateAppPassword(ctx, tn.ID, olga.ID+1000, "x", []byte("app-hash-x"))
	wantCode(t, err, tidbro.ENOTFOUND, "app password of an unknown user")
	_, err = s.CreateAppPassword(ctx, beta.ID, alice.ID, "x", []byte("app-hash-x"))
	wantCode(t, err, tidbro.ENOTFOUND, "app password of a user of another tenant")

	// Oldest first, and each user sees only their own.
	wantList := func(tenantID, userID int64, want ...*tidbro.AppPassword) {
		t.Helper()
		got := must(s.AppPasswords(ctx, tenantID, userID))(t)
		if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
			t.Errorf("AppPasswords(%d, %d) = %+v, want %+v", tenantID, userID, got, want)
		}
	}
	wantList(tn.ID, alice.ID, p1, p2)
	wantList(tn.ID, bob.ID, p3)
	wantList(beta.ID, olga.ID, p4)
	wantList(beta.ID, alice.ID) // alice's id under another tenant

	// Nobody else can revoke alice's password.
	wantCode(t, s.RevokeAppPassword(ctx, tn.ID, bob.ID, p1.ID), tidbro.ENOTFOUND, "revoke another user's app password")
	wantCode(t, s.RevokeAppPassword(ctx, beta.ID, alice.ID, p1.ID), tidbro.ENOTFOUND, "revoke under another tenant")
	wantCode(t, s.RevokeAppPassword(ctx, beta.ID, olga.ID, p1.ID), tidbro.ENOTFOUND, "revoke another tenant's user's app password")
	wantCode(t, s.RevokeAppPassword(ctx, tn.ID, alice.ID, p4.ID), tidbro.ENOTFOUND, "revoke olga's app password as alice")
	must(s.AppPasswordByHash(ctx, hash1))(t)
	must(s.AppPasswordByHash(ctx, hash4))(t)

	noErr(t, s.RevokeAppPassword(ctx, tn.ID, alice.ID, p1.ID))
	_, err = s.AppPasswordByHash(ctx, hash1)
	wantCode(t, err, tidbro.ENOTFOUND, "revoked app password")
	wantUser(hash1, nil)
	wantUser(hash2, alice)
	wantList(tn.ID, alice.ID, p2)
	wantCode(t, s.RevokeAppPassword(ctx, tn.ID, alice.ID, p1.ID), tidbro.ENOTFOUND, "revoke a revoked app password")
	wantCode(t, s.RevokeAppPassword(ctx, tn.ID, alice.ID, p4.ID+1000), tidbro.ENOTFOUND, "revoke an unknown app password")

	// A revoked id never comes to name another password, even the newest.
	p5 := must(s.CreateAppPassword(ctx, tn.ID, alice.ID, "tablet", []byte("app-hash-5")))(t)
	noErr(t, s.RevokeAppPassword(ctx, tn.ID, alice.ID, p5.ID))
	p6 := must(s.CreateAppPassword(ctx, tn.ID, alice.ID, "tablet", []byte("app-hash-6")))(t)
	if p6.ID == p5.ID {
		t.Errorf("the id %d of a revoked app password was reused", p5.ID)
	}
	// The secret of a revoked password may be used again.
	p1b := must(s.CreateAppPassword(ctx, tn.ID, alice.ID, "iPhone", hash1))(t)
	wantList(tn.ID, alice.ID, p2, p6, p1b)

	// A deleted user's passwords stop working, and stay gone when a user of
	// that name comes back.
	noErr(t, s.DeleteUser(ctx, tn.ID, "alice"))
	for _, h := range [][]byte{hash1, hash2} {
		_, err = s.AppPasswordByHash(ctx, h)
		wantCode(t, err, tidbro.ENOTFOUND, "app password of a deleted user")
		wantUser(h, nil)
	}
	wantList(tn.ID, alice.ID)
	_, err = s.CreateAppPassword(ctx, tn.ID, alice.ID, "x", []byte("app-hash-x"))
	wantCode(t, err, tidbro.ENOTFOUND, "app password of a deleted user")
	back := &tidbro.User{TenantID: tn.ID, Username: "alice"}
	must(s.PutUser(ctx, back))(t)
	if back.ID != alice.ID {
		t.Fatalf("revived alice has id %d, want %d", back.ID, alice.ID)
	}
	_, err = s.AppPasswordByHash(ctx, hash2)
	wantCode(t, err, tidbro.ENOTFOUND, "app password of a revived user")
	wantUser(hash2, nil)
	wantList(tn.ID, alice.ID)
	wantCode(t, s.RevokeAppPassword(ctx, tn.ID, alice.ID, p2.ID), tidbro.ENOTFOUND, "revoke a deleted user's app password")

	// Others are untouched.
	if got := must(s.AppPasswordByHash(ctx, hash3))(t); !reflect.DeepEqual(got, p3) {
		t.Errorf("bob's app password after alice's deletion = %+v, want %+v", got, p3)
	}
	wantList(tn.ID, bob.ID, p3)
	wantUser(hash3, bob)
}

func testDAVObjects(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ev := event(tn.ID, alice.ID, "e", start, time.Hour)
	it := put(t, s, ev)
	k := put(t, s, contact(tn.ID, alice.ID, "k"))

	want := func(itemID, version int64, data []byte) {
		t.Helper()
		v, d, err := s.DAVObject(ctx, itemID)
		if err != nil {
			t.Fatalf("DAVObject(%d): %v", itemID, err)
		}
		if v != version || !bytes.Equal(d, data) || d == nil {
			t.Errorf("DAVObject(%d) = version %d, %q; want version %d, %q", itemID, v, d, version, data)
		}
	}

	_, _, err := s.DAVObject(ctx, it.ID)
	wantCode(t, err, tidbro.ENOTFOUND, "DAV object never stored")
	_, _, err = s.DAVObject(ctx, k.ID+1000)
	wantCode(t, err, tidbro.ENOTFOUND, "DAV object of an unknown item")

	// Bytes come back exactly: CRLF, NUL, non-UTF-8.
	v1 := []byte("BEGIN:VCALENDAR\r\nX-TIDBRO:\x00\xff\xfe\r\nEND:VCALENDAR\r\n")
	noErr(t, s.PutDAVObject(ctx, it.ID, 1, v1))
	want(it.ID, 1, v1)
	_, _, err = s.DAVObject(ctx, k.ID)
	wantCode(t, err, tidbro.ENOTFOUND, "DAV object of another item")

	// The same version is replaced: a client's own bytes of it are kept.
	v1b := []byte("BEGIN:VCALENDAR\r\nX-CLIENT:kept\r\nEND:VCALENDAR\r\n")
	noErr(t, s.PutDAVObject(ctx, it.ID, 1, v1b))
	want(it.ID, 1, v1b)

	ev.Event.Summary = "edited"
	if it2 := put(t, s, ev); it2.Version != 2 {
		t.Fatalf("edited item has version %d, want 2", it2.Version)
	}
	noErr(t, s.PutDAVObject(ctx, it.ID, 2, []byte("v2")))
	want(it.ID, 2, []byte("v2"))

	// A stale writer changes nothing, and is no error.
	noErr(t, s.PutDAVObject(ctx, it.ID, 1, []byte("stale")))
	want(it.ID, 2, []byte("v2"))

	noErr(t, s.PutDAVObject(ctx, it.ID, 3, []byte("v3")))
	want(it.ID, 3, []byte("v3"))

	// Empty data is data: it reads back empty, not missing.
	noErr(t, s.PutDAVObject(ctx, k.ID, 1, nil))
	want(k.ID, 1, []byte{})
	want(it.ID, 3, []byte("v3"))

	wantCode(t, s.PutDAVObject(ctx, k.ID+1000, 1, []byte("x")), tidbro.ENOTFOUND, "DAV object of an unknown item")
	wantCode(t, s.PutDAVObject(ctx, it.ID, 0, []byte("x")), tidbro.EINVALID, "DAV object of version 0")
	want(it.ID, 3, []byte("v3"))
}

func job(tenantID, ownerID int64, appID string, start time.Time) *tidbro.Item {
	it := event(tenantID, ownerID, appID, start, time.Hour)
	it.Kind, it.Type = tidbro.KindJob, "job"
	return it
}

func testCollectionHead(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	other := newTenant(t, s, "other")
	olga := newUser(t, s, other.ID, "olga")
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	calendar := []tidbro.Kind{tidbro.KindEvent, tidbro.KindJob}
	events, jobs := []tidbro.Kind{tidbro.KindEvent}, []tidbro.Kind{tidbro.KindJob}
	contacts, tasks := []tidbro.Kind{tidbro.KindContact}, []tidbro.Kind{tidbro.KindTask}

	want := func(u *tidbro.User, kinds []tidbro.Kind, head int64) {
		t.Helper()
		got := must(s.CollectionHead(ctx, tn.ID, u.ID, kinds))(t)
		if got != head {
			t.Errorf("CollectionHead(%s, %v) = %d, want %d", u.Username, kinds, got, head)
		}
		// The head is where the collection's own feed ends.
		cs := changes(t, s, tidbro.ChangeQuery{TenantID: tn.ID, OwnerID: u.ID, Kinds: kinds})
		var end int64
		if len(cs) > 0 {
			end = cs[len(cs)-1].Seq
		}
		if end != got {
			t.Errorf("CollectionHead(%s, %v) = %d, but its feed is %v", u.Username, kinds, got, describe(cs))
		}
	}
	for _, kinds := range [][]tidbro.Kind{calendar, events, jobs, contacts, tasks} {
		want(alice, kinds, 0)
		want(bob, kinds, 0)
	}

	ev := event(tn.ID, alice.ID, "e", start, time.Hour)
	put(t, s, ev) // 1
	want(alice, calendar, 1)
	want(alice, events, 1)
	want(alice, jobs, 0)
	want(alice, contacts, 0)
	want(bob, calendar, 0)

	put(t, s, contact(tn.ID, alice.ID, "k")) // 2
	want(alice, contacts, 2)
	want(alice, calendar, 1)

	j := job(tn.ID, alice.ID, "j", start)
	put(t, s, j) // 3
	want(alice, calendar, 3)
	want(alice, events, 1)
	want(alice, jobs, 3)
	want(alice, []tidbro.Kind{tidbro.KindJob, tidbro.KindEvent, tidbro.KindJob}, 3) // order and repeats do not matter

	put(t, s, event(tn.ID, bob.ID, "b", start, time.Hour)) // 4
	want(alice, calendar, 3)
	want(bob, calendar, 4)
	want(bob, events, 4)

	// Another tenant's writes, and unchanged puts, move nothing.
	put(t, s, event(other.ID, olga.ID, "e", start, time.Hour))
	if _, changed := must2(s.PutItem(ctx, ev, tidbro.Precondition{}))(t); changed {
		t.Fatal("an unchanged put changed the item")
	}
	want(alice, calendar, 3)
	if got := must(s.CollectionHead(ctx, other.ID, alice.ID, calendar))(t); got != 0 {
		t.Errorf("CollectionHead of alice under another tenant = %d, want 0", got)
	}

	_, err := s.DeleteItem(ctx, tn.ID, tidbro.KindEvent, "e", tidbro.Precondition{}, tidbro.OriginDAVClient) // 5
	noErr(t, err)
	want(alice, events, 5)
	want(alice, calendar, 5)
	want(alice, jobs, 3)
	want(bob, calendar, 4)

	// A reassigned job leaves alice's calendar (6) and arrives in bob's (7):
	// both heads move.
	j.OwnerID = bob.ID
	put(t, s, j)
	want(alice, jobs, 6)
	want(alice, calendar, 6)
	want(alice, events, 5)
	want(alice, contacts, 2)
	want(bob, jobs, 7)
	want(bob, calendar, 7)
	want(bob, events, 4)
	if h := head(t, s, tn.ID); h != 7 {
		t.Fatalf("tenant head = %d, want 7", h)
	}

	// Deleting a user tombstones their items, which moves their heads.
	noErr(t, s.DeleteUser(ctx, tn.ID, "bob"))
	want(bob, calendar, head(t, s, tn.ID))
	want(bob, contacts, 0)
	want(alice, calendar, 6)

	_, err = s.CollectionHead(ctx, tn.ID, alice.ID, nil)
	wantCode(t, err, tidbro.EINVALID, "collection head without kinds")
	_, err = s.CollectionHead(ctx, tn.ID, alice.ID, []tidbro.Kind{tidbro.KindEvent, "note"})
	wantCode(t, err, tidbro.EINVALID, "collection head of an unknown kind")
}

func testChangesKinds(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	calendar := []tidbro.Kind{tidbro.KindEvent, tidbro.KindJob}

	put(t, s, event(tn.ID, alice.ID, "a", start, time.Hour)) // 1
	put(t, s, contact(tn.ID, alice.ID, "k"))                 // 2
	put(t, s, &tidbro.Item{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindTask, AppID: "t",
		ChangedBy: tidbro.OriginApp, Task: &tidbro.Task{Summary: "t"}}) // 3
	j := job(tn.ID, alice.ID, "j", start)
	put(t, s, j)                                           // 4
	put(t, s, event(tn.ID, bob.ID, "b", start, time.Hour)) // 5

	wantFeed := func(q tidbro.ChangeQuery, want ...string) {
		t.Helper()
		cs := must(s.Changes(ctx, q))(t)
		if got := describe(cs); !slices.Equal(got, want) {
			t.Errorf("Changes(%+v) = %v, want %v", q, got, want)
		}
	}
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, Kinds: calendar}, "a@1", "j@4", "b@5")
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, Kinds: []tidbro.Kind{tidbro.KindTask, tidbro.KindContact}}, "k@2", "t@3")
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, Kinds: []tidbro.Kind{tidbro.KindEvent, tidbro.KindEvent}}, "a@1", "b@5")
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, OwnerID: alice.ID, Kinds: calendar}, "a@1", "j@4")
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, Kinds: calendar, Since: 1, Limit: 1}, "j@4")
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, Kinds: calendar, Since: 5})
	// Kind, when set, is the filter.
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, Kind: tidbro.KindContact, Kinds: calendar}, "k@2")
	// No kinds: every kind.
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, Kinds: []tidbro.Kind{}}, "a@1", "k@2", "t@3", "j@4", "b@5")

	// A job reassigned to bob departs from alice's calendar (6) and arrives
	// in bob's (7); the tenant's feed has only the arrival.
	j.OwnerID = bob.ID
	put(t, s, j)
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, OwnerID: alice.ID, Kinds: calendar}, "a@1", "j@4", "~j@6")
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, OwnerID: bob.ID, Kinds: calendar}, "b@5", "j@7")
	wantFeed(tidbro.ChangeQuery{TenantID: tn.ID, Kinds: calendar, Since: 4}, "b@5", "j@7")

	_, err := s.Changes(ctx, tidbro.ChangeQuery{TenantID: tn.ID, Kinds: []tidbro.Kind{tidbro.KindEvent, "note"}})
	wantCode(t, err, tidbro.EINVALID, "changes of an unknown kind")
}

func testDAVNames(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	a := put(t, s, event(tn.ID, alice.ID, "dav-a", start, time.Hour))
	b := put(t, s, event(tn.ID, bob.ID, "dav-b", start, time.Hour))
	task := put(t, s, &tidbro.Item{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindTask, AppID: "dav-t", ChangedBy: tidbro.OriginApp, Task: &tidbro.Task{Summary: "t"}})
	for _, c := range []struct {
		id   int64
		name string
	}{{a.ID, "meeting-uid.ics"}, {b.ID, "meeting-uid.ics"}, {task.ID, "meeting-uid.ics"}} {
		if err := s.SetDAVName(ctx, c.id, c.name); err != nil {
			t.Fatal(err)
		}
	}
	events := []tidbro.Kind{tidbro.KindEvent, tidbro.KindJob}
	if got := must(s.DAVItemByName(ctx, tn.ID, alice.ID, events, "meeting-uid.ics"))(t); got.ID != a.ID {
		t.Errorf("alice's event by name: %d, want %d", got.ID, a.ID)
	}
	if got := must(s.DAVItemByName(ctx, tn.ID, bob.ID, events, "meeting-uid.ics"))(t); got.ID != b.ID {
		t.Errorf("bob's event by name: %d, want %d", got.ID, b.ID)
	}
	if got := must(s.DAVItemByName(ctx, tn.ID, alice.ID, []tidbro.Kind{tidbro.KindTask}, "meeting-uid.ics"))(t); got.ID != task.ID {
		t.Errorf("alice's task by name: %d, want %d", got.ID, task.ID)
	}
	_, err := s.DAVItemByName(ctx, tn.ID, alice.ID, events, "other.ics")
	wantCode(t, err, tidbro.ENOTFOUND, "an unknown name")
	if err := s.SetDAVName(ctx, 999999, "x.ics"); tidbro.ErrorCode(err) != tidbro.ENOTFOUND {
		t.Errorf("naming an unknown item: %v", err)
	}
	names := must(s.DAVNames(ctx, tn.ID, alice.ID, events))(t)
	if !reflect.DeepEqual(names, map[int64]string{a.ID: "meeting-uid.ics"}) {
		t.Errorf("alice's event names: %v", names)
	}
	// A deleted item keeps its name (its deletion is reported under it) but
	// is no longer found by it.
	if _, err := s.DeleteItem(ctx, tn.ID, tidbro.KindEvent, "dav-a", tidbro.Precondition{}, tidbro.OriginDAVClient); err != nil {
		t.Fatal(err)
	}
	_, err = s.DAVItemByName(ctx, tn.ID, alice.ID, events, "meeting-uid.ics")
	wantCode(t, err, tidbro.ENOTFOUND, "a deleted item by name")
	if names := must(s.DAVNames(ctx, tn.ID, alice.ID, events))(t); names[a.ID] != "meeting-uid.ics" {
		t.Errorf("names after the deletion: %v", names)
	}
}

// testPutDAVItem checks that a client's PUT writes item, name and object
// together, and nothing of them when it fails.
func testPutDAVItem(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	events := []tidbro.Kind{tidbro.KindEvent, tidbro.KindJob}
	wantObject := func(itemID, version int64, data string) {
		t.Helper()
		v, d, err := s.DAVObject(ctx, itemID)
		if err != nil || v != version || string(d) != data {
			t.Errorf("DAVObject(%d) = version %d, %q, %v; want version %d, %q", itemID, v, d, err, version, data)
		}
	}

	in := event(tn.ID, alice.ID, "dav-1", start, time.Hour)
	in.ChangedBy = tidbro.OriginDAVClient
	v1, changed, err := s.PutDAVItem(ctx, in, tidbro.Precondition{IfNoneMatch: true}, "uid-1.ics", []byte("v1"))
	noErr(t, err)
	if !changed || v1.Version != 1 || v1.ID == 0 || v1.Seq != 1 {
		t.Fatalf("created: changed = %v, %+v", changed, v1)
	}
	wantObject(v1.ID, 1, "v1")
	if got := must(s.DAVItemByName(ctx, tn.ID, alice.ID, events, "uid-1.ics"))(t); got.ID != v1.ID {
		t.Errorf("the named item is %d, want %d", got.ID, v1.ID)
	}
	if got := must(s.Item(ctx, tn.ID, tidbro.KindEvent, "dav-1"))(t); !reflect.DeepEqual(got, v1) {
		t.Errorf("stored item %+v, returned %+v", got, v1)
	}

	// Bytes that change nothing tidbro models: the item stays, and so does
	// the feed, but the client's bytes (and a new name) are kept.
	same, changed, err := s.PutDAVItem(ctx, in, tidbro.Precondition{IfMatch: 1}, "uid-1b.ics", []byte("v1 with X-PROPS"))
	noErr(t, err)
	if changed || same.Version != 1 {
		t.Errorf("unchanged: changed = %v, version %d", changed, same.Version)
	}
	wantObject(v1.ID, 1, "v1 with X-PROPS")
	if got := must(s.DAVItemByName(ctx, tn.ID, alice.ID, events, "uid-1b.ics"))(t); got.ID != v1.ID {
		t.Errorf("renamed item is %d, want %d", got.ID, v1.ID)
	}
	if h := head(t, s, tn.ID); h != 1 {
		t.Errorf("Head after an unchanged PUT = %d, want 1", h)
	}

	in.Event.Summary = "edited"
	v2, changed, err := s.PutDAVItem(ctx, in, tidbro.Precondition{IfMatch: 1}, "", []byte("v2"))
	noErr(t, err)
	if !changed || v2.Version != 2 {
		t.Errorf("edited: changed = %v, version %d", changed, v2.Version)
	}
	wantObject(v1.ID, 2, "v2")

	// A failed precondition writes nothing, object included.
	in.Event.Summary = "lost"
	_, _, err = s.PutDAVItem(ctx, in, tidbro.Precondition{IfMatch: 1}, "", []byte("lost"))
	wantCode(t, err, tidbro.EPRECONDITION, "PUT over a stale version")
	wantObject(v1.ID, 2, "v2")

	// So does an invalid name: no item is created.
	bad := event(tn.ID, alice.ID, "dav-2", start, time.Hour)
	_, _, err = s.PutDAVItem(ctx, bad, tidbro.Precondition{}, "\xff.ics", []byte("x"))
	wantCode(t, err, tidbro.EINVALID, "PUT with an invalid name")
	_, err = s.Item(ctx, tn.ID, tidbro.KindEvent, "dav-2")
	wantCode(t, err, tidbro.ENOTFOUND, "the item of a PUT with an invalid name")

	if got := describe(changes(t, s, tidbro.ChangeQuery{TenantID: tn.ID})); !slices.Equal(got, []string{"dav-1@1", "dav-1@2"}) {
		t.Errorf("feed = %v, want [dav-1@1 dav-1@2]", got)
	}
}
