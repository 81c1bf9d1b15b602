package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

// Tests of the SyncStore: pairs, links, runs, the audit log, holds and
// settings.

func newAccount(t *testing.T, s tidbro.Store, u *tidbro.User, name string) *tidbro.Account {
	t.Helper()
	a := &tidbro.Account{UserID: u.ID, Name: name, Kind: tidbro.AccountCalDAV, URL: "https://dav.example.com/" + name + "/",
		Username: u.Username, Password: "pw-" + name, Policy: tidbro.DefaultPolicy()}
	must(s.PutAccount(t.Context(), a))(t)
	return a
}

func newPair(t *testing.T, s tidbro.Store, a *tidbro.Account, kind tidbro.Kind) *tidbro.Pair {
	t.Helper()
	p := &tidbro.Pair{AccountID: a.ID, Kind: kind, RemoteID: fmt.Sprintf("/dav/%s/%s/", a.Name, kind), RemoteName: a.Name + " " + string(kind)}
	if created := must(s.PutPair(t.Context(), p))(t); !created {
		t.Fatalf("PutPair of a new pair: created = false")
	}
	return p
}

// putContacts writes n contacts of owner with app ids prefix-0000, ...
func putContacts(t *testing.T, s tidbro.Store, tenantID, ownerID int64, prefix string, n int) []*tidbro.Item {
	t.Helper()
	items := make([]*tidbro.Item, n)
	for i := range items {
		items[i] = put(t, s, contact(tenantID, ownerID, fmt.Sprintf("%s-%04d", prefix, i)))
	}
	return items
}

func pairIDs(ps []*tidbro.Pair) []int64 {
	out := []int64{}
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

// micro is a time at the stores' precision, with a fraction of a second
// that a store keeping milliseconds or seconds would lose.
func micro(sec int) time.Time {
	return time.Date(2026, 3, 2, 9, 0, sec, 123456000, time.UTC)
}

func testPairs(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	other := newTenant(t, s, "other")
	carol := newUser(t, s, other.ID, "carol")
	work, home := newAccount(t, s, alice, "work"), newAccount(t, s, alice, "home")
	bobs, carols := newAccount(t, s, bob, "work"), newAccount(t, s, carol, "work")

	p := &tidbro.Pair{AccountID: work.ID, Kind: tidbro.KindEvent, RemoteID: "/dav/work/", RemoteName: "Work",
		AppCursor: 7, SyncToken: "tok-0"}
	if created := must(s.PutPair(ctx, p))(t); !created {
		t.Error("PutPair of a new pair: created = false")
	}
	if p.ID == 0 || p.TenantID != tn.ID || p.UserID != alice.ID || p.Created.IsZero() || !p.LastRun.IsZero() {
		t.Fatalf("PutPair filled %+v", p)
	}
	if got := must(s.Pair(ctx, p.ID))(t); !reflect.DeepEqual(got, p) {
		t.Errorf("Pair = %+v, want %+v", got, p)
	}

	// The state is saved, at microsecond precision.
	state := *p
	state.AppCursor, state.SyncToken, state.LastRun, state.LastError = 42, "tok-1", micro(1), "remote said 503"
	state.WindowFrom, state.WindowTo = micro(2), micro(3)
	noErr(t, s.SavePairState(ctx, &state))
	if got := must(s.Pair(ctx, p.ID))(t); !reflect.DeepEqual(got, &state) {
		t.Errorf("after SavePairState: %+v, want %+v", got, &state)
	}

	// An update changes the remote collection and leaves the state alone.
	upd := &tidbro.Pair{AccountID: work.ID, Kind: tidbro.KindEvent, RemoteID: "/dav/work2/", RemoteName: "Work 2"}
	if created := must(s.PutPair(ctx, upd))(t); created {
		t.Error("PutPair of an existing pair: created = true")
	}
	want := state
	want.RemoteID, want.RemoteName = "/dav/work2/", "Work 2"
	if got := must(s.Pair(ctx, p.ID))(t); !reflect.DeepEqual(got, &want) {
		t.Errorf("after an update: %+v, want %+v", got, &want)
	}
	if upd.ID != p.ID || !upd.Created.Equal(p.Created) {
		t.Errorf("PutPair of an existing pair filled %+v", upd)
	}

	// A cleared state reads back cleared: a zero LastRun stays zero.
	state.LastRun, state.LastError, state.SyncToken = time.Time{}, "", ""
	noErr(t, s.SavePairState(ctx, &state))
	if got := must(s.Pair(ctx, p.ID))(t); !got.LastRun.IsZero() || got.LastError != "" || got.SyncToken != "" || got.AppCursor != 42 {
		t.Errorf("after clearing the state: %+v", got)
	}

	task := newPair(t, s, work, tidbro.KindTask)
	homeEv := newPair(t, s, home, tidbro.KindEvent)
	bobEv := newPair(t, s, bobs, tidbro.KindContact)
	carolEv := newPair(t, s, carols, tidbro.KindEvent)
	for _, c := range []struct {
		q    tidbro.PairQuery
		want []int64
	}{
		{tidbro.PairQuery{TenantID: tn.ID}, []int64{p.ID, task.ID, homeEv.ID, bobEv.ID}},
		{tidbro.PairQuery{TenantID: tn.ID, UserID: alice.ID}, []int64{p.ID, task.ID, homeEv.ID}},
		{tidbro.PairQuery{TenantID: tn.ID, AccountID: work.ID}, []int64{p.ID, task.ID}},
		{tidbro.PairQuery{TenantID: tn.ID, UserID: alice.ID, AccountID: home.ID}, []int64{homeEv.ID}},
		{tidbro.PairQuery{TenantID: tn.ID, UserID: bob.ID, AccountID: work.ID}, []int64{}},
		{tidbro.PairQuery{TenantID: other.ID}, []int64{carolEv.ID}},
		{tidbro.PairQuery{TenantID: other.ID, UserID: alice.ID}, []int64{}},
	} {
		if got := pairIDs(must(s.Pairs(ctx, c.q))(t)); !slices.Equal(got, c.want) {
			t.Errorf("Pairs(%+v) = %v, want %v", c.q, got, c.want)
		}
	}
	if ps := must(s.Pairs(ctx, tidbro.PairQuery{TenantID: tn.ID, AccountID: bobs.ID}))(t); len(ps) != 1 || !reflect.DeepEqual(ps[0], bobEv) {
		t.Errorf("Pairs of bob's account = %+v, want %+v", ps, bobEv)
	}

	_, err := s.Pair(ctx, carolEv.ID+1000)
	wantCode(t, err, tidbro.ENOTFOUND, "unknown pair")
	wantCode(t, s.SavePairState(ctx, &tidbro.Pair{ID: carolEv.ID + 1000}), tidbro.ENOTFOUND, "SavePairState of an unknown pair")
	_, err = s.PutPair(ctx, &tidbro.Pair{AccountID: carols.ID + 1000, Kind: tidbro.KindEvent})
	wantCode(t, err, tidbro.ENOTFOUND, "pair of an unknown account")
	_, err = s.PutPair(ctx, &tidbro.Pair{AccountID: work.ID, Kind: tidbro.KindJob})
	wantCode(t, err, tidbro.EINVALID, "pair of kind job")
	_, err = s.PutPair(ctx, &tidbro.Pair{AccountID: work.ID, UserID: bob.ID, Kind: tidbro.KindContact})
	wantCode(t, err, tidbro.EINVALID, "pair of alice's account for bob")
	if ps := must(s.Pairs(ctx, tidbro.PairQuery{TenantID: tn.ID, AccountID: work.ID}))(t); len(ps) != 2 {
		t.Errorf("failed PutPairs left %d pairs of the account, want 2", len(ps))
	}

	// Deleting the account deletes its pairs with their links, holds and
	// runs; the audit log stays.
	it := put(t, s, contact(tn.ID, alice.ID, "c-1"))
	noErr(t, s.PutLink(ctx, &tidbro.Link{PairID: p.ID, ItemID: it.ID, RemoteID: "r-1"}))
	noErr(t, s.PutHold(ctx, &tidbro.Hold{PairID: p.ID, ItemID: it.ID, Kind: tidbro.KindContact, AppID: "c-1", Side: "groupware"}))
	noErr(t, s.StartRun(ctx, &tidbro.Run{PairID: p.ID}))
	noErr(t, s.AddAudit(ctx, []tidbro.AuditEntry{{TenantID: tn.ID, UserID: alice.ID, PairID: p.ID, Action: "create-app", Rule: "R1"}}))
	noErr(t, s.DeleteAccount(ctx, alice.ID, "work"))
	for _, id := range []int64{p.ID, task.ID} {
		_, err := s.Pair(ctx, id)
		wantCode(t, err, tidbro.ENOTFOUND, "pair of a deleted account")
	}
	assertPairGone(t, s, p.ID)
	if got := pairIDs(must(s.Pairs(ctx, tidbro.PairQuery{TenantID: tn.ID}))(t)); !slices.Equal(got, []int64{homeEv.ID, bobEv.ID}) {
		t.Errorf("pairs after deleting an account = %v", got)
	}
	if log := must(s.AuditLog(ctx, tn.ID, alice.ID, 0, 0))(t); len(log) != 1 || log[0].PairID != p.ID {
		t.Errorf("audit log after deleting the pair's account = %+v", log)
	}
	// So does deleting the user.
	noErr(t, s.DeleteUser(ctx, tn.ID, "bob"))
	_, err = s.Pair(ctx, bobEv.ID)
	wantCode(t, err, tidbro.ENOTFOUND, "pair of a deleted user")
}

// assertPairGone checks that nothing of the pair is left.
func assertPairGone(t *testing.T, s tidbro.Store, pairID int64) {
	t.Helper()
	ctx := t.Context()
	if n := must(s.CountLinks(ctx, pairID))(t); n != 0 {
		t.Errorf("pair %d is gone, but it has %d links", pairID, n)
	}
	if ls := must(s.Links(ctx, pairID, 0, 0))(t); len(ls) != 0 {
		t.Errorf("pair %d is gone, but Links returns %d", pairID, len(ls))
	}
	if hs := must(s.HoldsOfPair(ctx, pairID))(t); len(hs) != 0 {
		t.Errorf("pair %d is gone, but it has %d holds", pairID, len(hs))
	}
	if rs := must(s.Runs(ctx, pairID, 0))(t); len(rs) != 0 {
		t.Errorf("pair %d is gone, but it has %d runs", pairID, len(rs))
	}
}

func testDeletePair(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	a := newAccount(t, s, alice, "work")
	// p is the newest pair, with the newest run and hold: their ids must
	// not come back after the deletion (the audit log names them).
	q, p := newPair(t, s, a, tidbro.KindEvent), newPair(t, s, a, tidbro.KindContact)
	items := putContacts(t, s, tn.ID, alice.ID, "c", 3)
	var run tidbro.Run
	var hold tidbro.Hold
	for _, pair := range []*tidbro.Pair{q, p} {
		for i, it := range items {
			noErr(t, s.PutLink(ctx, &tidbro.Link{PairID: pair.ID, ItemID: it.ID, RemoteID: fmt.Sprint("r-", i), Pending: tidbro.PendingUpdate}))
		}
		hold = tidbro.Hold{PairID: pair.ID, ItemID: items[0].ID, Kind: tidbro.KindContact, AppID: items[0].AppID, Side: "app"}
		noErr(t, s.PutHold(ctx, &hold))
		run = tidbro.Run{PairID: pair.ID}
		noErr(t, s.StartRun(ctx, &run))
	}
	noErr(t, s.AddAudit(ctx, []tidbro.AuditEntry{{TenantID: tn.ID, UserID: alice.ID, PairID: p.ID, RunID: run.ID, Action: "hold", Rule: "R9"}}))

	noErr(t, s.DeletePair(ctx, p.ID))
	_, err := s.Pair(ctx, p.ID)
	wantCode(t, err, tidbro.ENOTFOUND, "deleted pair")
	assertPairGone(t, s, p.ID)
	if ls := must(s.LinksByItem(ctx, p.ID, []int64{items[0].ID, items[1].ID}))(t); len(ls) != 0 {
		t.Errorf("LinksByItem of a deleted pair = %d links", len(ls))
	}
	if ls := must(s.LinksToRetry(ctx, p.ID))(t); len(ls) != 0 {
		t.Errorf("LinksToRetry of a deleted pair = %d links", len(ls))
	}
	if hs := must(s.Holds(ctx, tn.ID, alice.ID))(t); len(hs) != 1 || hs[0].PairID != q.ID {
		t.Errorf("holds after deleting a pair = %+v", hs)
	}
	// The other pair of the account is untouched.
	if n := must(s.CountLinks(ctx, q.ID))(t); n != 3 {
		t.Errorf("the other pair has %d links, want 3", n)
	}
	if rs := must(s.Runs(ctx, q.ID, 0))(t); len(rs) != 1 {
		t.Errorf("the other pair has %d runs, want 1", len(rs))
	}
	if log := must(s.AuditLog(ctx, tn.ID, alice.ID, 0, 0))(t); len(log) != 1 || log[0].PairID != p.ID {
		t.Errorf("audit log after deleting the pair = %+v", log)
	}
	wantCode(t, s.DeletePair(ctx, p.ID), tidbro.ENOTFOUND, "second DeletePair")

	// The pair can be made again, new and empty; the item ids and remote
	// ids of the old links are free.
	again := newPair(t, s, a, tidbro.KindContact)
	if again.ID == p.ID {
		t.Errorf("a pair made again reuses the id %d", p.ID)
	}
	if n := must(s.CountLinks(ctx, again.ID))(t); n != 0 {
		t.Errorf("a new pair has %d links", n)
	}
	noErr(t, s.PutLink(ctx, &tidbro.Link{PairID: again.ID, ItemID: items[0].ID, RemoteID: "r-0"}))
	r := &tidbro.Run{PairID: again.ID}
	noErr(t, s.StartRun(ctx, r))
	h := &tidbro.Hold{PairID: again.ID, ItemID: items[0].ID, Kind: tidbro.KindContact, AppID: items[0].AppID, Side: "app"}
	noErr(t, s.PutHold(ctx, h))
	if r.ID == run.ID || h.ID == hold.ID {
		t.Errorf("ids of the deleted pair's run %d and hold %d came back: run %d, hold %d", run.ID, hold.ID, r.ID, h.ID)
	}
}
