package storetest

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

func testRuns(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	_, alice, _ := setup(t, s)
	a := newAccount(t, s, alice, "work")
	p, q := newPair(t, s, a, tidbro.KindEvent), newPair(t, s, a, tidbro.KindTask)

	r1 := &tidbro.Run{PairID: p.ID, Full: true, Started: micro(0).Add(789 * time.Nanosecond), Status: tidbro.RunRunning}
	noErr(t, s.StartRun(ctx, r1))
	if r1.ID == 0 || r1.UserID != alice.ID || !r1.Started.Equal(micro(0)) || !r1.Finished.IsZero() {
		t.Fatalf("StartRun filled %+v", r1)
	}
	if got := must(s.Runs(ctx, p.ID, 10))(t); len(got) != 1 || !reflect.DeepEqual(got[0], r1) {
		t.Fatalf("Runs = %+v, want %+v", got, r1)
	}

	r1.Finished, r1.Status = micro(5), tidbro.RunOK
	r1.Counts = tidbro.RunCounts{
		App:    tidbro.SideCounts{Created: 1, Updated: 2, Deleted: 3, Restored: 4, Skipped: 5, Held: 6, Conflicts: 7, Errors: 8},
		Remote: tidbro.SideCounts{Created: 11, Updated: 12, Deleted: 13, Restored: 14, Skipped: 15, Held: 16, Conflicts: 17, Errors: 18},
	}
	noErr(t, s.FinishRun(ctx, r1))
	r2 := &tidbro.Run{PairID: p.ID, DryRun: true, UserID: alice.ID, Started: micro(10), Status: tidbro.RunRunning}
	noErr(t, s.StartRun(ctx, r2))
	r2.Finished, r2.Status, r2.Error = micro(11), tidbro.RunStopped, "would delete 80% of the remote's items"
	r2.Counts.Remote.Deleted = 80
	noErr(t, s.FinishRun(ctx, r2))
	r3 := &tidbro.Run{PairID: p.ID, Started: micro(20), Status: tidbro.RunRunning}
	noErr(t, s.StartRun(ctx, r3))
	other := &tidbro.Run{PairID: q.ID, Started: micro(30), Status: tidbro.RunRunning}
	noErr(t, s.StartRun(ctx, other))

	if got, want := must(s.Runs(ctx, p.ID, 0))(t), []*tidbro.Run{r3, r2, r1}; !reflect.DeepEqual(got, want) {
		t.Errorf("Runs newest first:\n got %+v\nwant %+v", runsString(got), runsString(want))
	}
	if got, want := must(s.Runs(ctx, p.ID, 2))(t), []*tidbro.Run{r3, r2}; !reflect.DeepEqual(got, want) {
		t.Errorf("Runs limit 2:\n got %+v\nwant %+v", runsString(got), runsString(want))
	}
	if got := must(s.Runs(ctx, q.ID, 0))(t); len(got) != 1 || !reflect.DeepEqual(got[0], other) {
		t.Errorf("Runs of the other pair = %+v", runsString(got))
	}

	// A run finished without a time finishes now.
	before := time.Now().Add(-time.Second)
	r3.Status = tidbro.RunFailed
	noErr(t, s.FinishRun(ctx, r3))
	if got := must(s.Runs(ctx, p.ID, 1))(t); len(got) != 1 || got[0].Finished.Before(before) || got[0].Status != tidbro.RunFailed {
		t.Errorf("run finished without a time: %+v", runsString(got))
	}

	wantCode(t, s.StartRun(ctx, &tidbro.Run{PairID: q.ID + 1000}), tidbro.ENOTFOUND, "run of an unknown pair")
	wantCode(t, s.FinishRun(ctx, &tidbro.Run{ID: other.ID + 1000, Status: tidbro.RunOK}), tidbro.ENOTFOUND, "finish an unknown run")
}

func runsString(rs []*tidbro.Run) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%+v", *r))
	}
	return out
}

func testAudit(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	other := newTenant(t, s, "other")
	const n = 2007 // every row count of an INSERT (sqlstore.auditRows)
	entries := make([]tidbro.AuditEntry, n)
	for i := range entries {
		e := tidbro.AuditEntry{TenantID: tn.ID, UserID: alice.ID, PairID: 7, RunID: 70 + int64(i/500), At: micro(i),
			Action: "create-remote", Kind: tidbro.KindEvent, AppID: fmt.Sprintf("ev-%04d", i), RemoteID: fmt.Sprintf("r-%04d", i), Rule: "R3"}
		if i%10 == 0 {
			e.Action, e.Error = "update-app", "412 precondition failed"
		}
		entries[i] = e
	}
	start := time.Now()
	noErr(t, s.AddAudit(ctx, entries))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("AddAudit of %d entries took %v", n, d)
	}
	noErr(t, s.AddAudit(ctx, []tidbro.AuditEntry{
		{TenantID: tn.ID, UserID: bob.ID, PairID: 8, RunID: 80, At: micro(1), Action: "hold", Kind: tidbro.KindTask, AppID: "t-1", Rule: "R7"},
		{TenantID: tn.ID, UserID: bob.ID, PairID: 8, RunID: 80, Action: "delete-app", Kind: tidbro.KindTask, AppID: "t-2", Rule: "R8"},
		// The same user id in another tenant is someone else.
		{TenantID: other.ID, UserID: alice.ID, PairID: 9, RunID: 90, At: micro(1), Action: "hold", Rule: "R7"},
	}))
	noErr(t, s.AddAudit(ctx, nil))

	// Page through alice's log, newest first.
	var log []tidbro.AuditEntry
	for before := int64(0); ; {
		page := must(s.AuditLog(ctx, tn.ID, alice.ID, before, 300))(t)
		if len(page) > 300 {
			t.Fatalf("a page of %d entries, limit 300", len(page))
		}
		log = append(log, page...)
		if len(page) < 300 {
			break
		}
		before = page[len(page)-1].ID
	}
	if len(log) != n {
		t.Fatalf("alice's log has %d entries, want %d", len(log), n)
	}
	for i, got := range log {
		if i > 0 && got.ID >= log[i-1].ID {
			t.Fatalf("entry %d has id %d after %d: not newest first", i, got.ID, log[i-1].ID)
		}
		want := entries[n-1-i]
		want.ID = got.ID
		if got.ID == 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("entry %d = %+v, want %+v", i, got, want)
		}
	}
	if page := must(s.AuditLog(ctx, tn.ID, alice.ID, log[10].ID, 5))(t); len(page) != 5 || page[0].ID != log[11].ID || page[4].ID != log[15].ID {
		t.Errorf("the 5 entries before the 11th newest = %+v", page)
	}
	if page := must(s.AuditLog(ctx, tn.ID, alice.ID, log[n-1].ID, 5))(t); len(page) != 0 {
		t.Errorf("entries before the oldest = %+v", page)
	}
	if page := must(s.AuditLog(ctx, tn.ID, alice.ID, 0, 0))(t); len(page) != tidbro.DefaultPageSize || page[0].ID != log[0].ID {
		t.Errorf("AuditLog without a limit = %d entries, want %d", len(page), tidbro.DefaultPageSize)
	}
	if page := must(s.AuditLog(ctx, tn.ID, alice.ID, 0, 5000))(t); len(page) != tidbro.MaxPageSize {
		t.Errorf("AuditLog with limit 5000 = %d entries, want %d", len(page), tidbro.MaxPageSize)
	}

	bobs := must(s.AuditLog(ctx, tn.ID, bob.ID, 0, 0))(t)
	if len(bobs) != 2 || bobs[0].AppID != "t-2" || bobs[1].AppID != "t-1" || bobs[1].UserID != bob.ID || bobs[1].PairID != 8 {
		t.Fatalf("bob's log = %+v", bobs)
	}
	if bobs[0].At.Before(time.Now().Add(-time.Minute)) {
		t.Errorf("an entry without a time has At %v, want now", bobs[0].At)
	}
	if got := must(s.AuditLog(ctx, other.ID, alice.ID, 0, 0))(t); len(got) != 1 || got[0].PairID != 9 {
		t.Errorf("the other tenant's log = %+v", got)
	}
}

func testHolds(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	p := newPair(t, s, newAccount(t, s, alice, "work"), tidbro.KindContact)
	pb := newPair(t, s, newAccount(t, s, bob, "work"), tidbro.KindContact)
	items := putContacts(t, s, tn.ID, alice.ID, "c", 2)
	bobItem := put(t, s, contact(tn.ID, bob.ID, "b-1"))
	holds := func(hs []*tidbro.Hold, err error) []tidbro.Hold {
		t.Helper()
		noErr(t, err)
		out := []tidbro.Hold{}
		for _, h := range hs {
			out = append(out, *h)
		}
		return out
	}

	h := &tidbro.Hold{PairID: p.ID, ItemID: items[0].ID, Kind: tidbro.KindContact, AppID: items[0].AppID, RemoteID: "r-0", Side: "groupware"}
	noErr(t, s.PutHold(ctx, h))
	if h.ID == 0 || h.Created.IsZero() || h.TenantID != tn.ID || h.UserID != alice.ID || h.Decision != "" {
		t.Fatalf("PutHold filled %+v", h)
	}
	if got := holds(s.Holds(ctx, tn.ID, alice.ID)); !reflect.DeepEqual(got, []tidbro.Hold{*h}) {
		t.Errorf("Holds = %+v, want %+v", got, *h)
	}

	noErr(t, s.DecideHold(ctx, tn.ID, alice.ID, h.ID, tidbro.DecisionPropagate))
	// Holding the item again keeps the hold's id, time and decision.
	time.Sleep(2 * time.Millisecond)
	again := &tidbro.Hold{PairID: p.ID, ItemID: items[0].ID, Kind: tidbro.KindContact, AppID: items[0].AppID, RemoteID: "r-0b", Side: "app"}
	noErr(t, s.PutHold(ctx, again))
	want := *h
	want.RemoteID, want.Side, want.Decision = "r-0b", "app", tidbro.DecisionPropagate
	if !reflect.DeepEqual(*again, want) {
		t.Errorf("PutHold of a held item filled %+v, want %+v", *again, want)
	}
	if got := holds(s.HoldsOfPair(ctx, p.ID)); !reflect.DeepEqual(got, []tidbro.Hold{want}) {
		t.Errorf("HoldsOfPair after a second hold = %+v, want %+v", got, want)
	}

	h2 := &tidbro.Hold{PairID: p.ID, ItemID: items[1].ID, Kind: tidbro.KindContact, AppID: items[1].AppID, Side: "app"}
	noErr(t, s.PutHold(ctx, h2))
	hb := &tidbro.Hold{PairID: pb.ID, ItemID: bobItem.ID, Kind: tidbro.KindContact, AppID: bobItem.AppID, Side: "groupware"}
	noErr(t, s.PutHold(ctx, hb))
	if got := holds(s.Holds(ctx, tn.ID, alice.ID)); !reflect.DeepEqual(got, []tidbro.Hold{want, *h2}) {
		t.Errorf("alice's holds = %+v", got)
	}
	if got := holds(s.Holds(ctx, tn.ID, bob.ID)); !reflect.DeepEqual(got, []tidbro.Hold{*hb}) {
		t.Errorf("bob's holds = %+v", got)
	}
	if got := holds(s.HoldsOfPair(ctx, pb.ID)); !reflect.DeepEqual(got, []tidbro.Hold{*hb}) {
		t.Errorf("holds of bob's pair = %+v", got)
	}

	// Only the hold's user decides, and only propagate or restore.
	wantCode(t, s.DecideHold(ctx, tn.ID, bob.ID, h.ID, tidbro.DecisionRestore), tidbro.ENOTFOUND, "bob deciding alice's hold")
	wantCode(t, s.DecideHold(ctx, tn.ID+1000, alice.ID, h.ID, tidbro.DecisionRestore), tidbro.ENOTFOUND, "deciding in another tenant")
	wantCode(t, s.DecideHold(ctx, tn.ID, alice.ID, hb.ID+1000, tidbro.DecisionRestore), tidbro.ENOTFOUND, "deciding an unknown hold")
	for _, d := range []string{"", "maybe", "Restore"} {
		err := s.DecideHold(ctx, tn.ID, alice.ID, h.ID, d)
		wantCode(t, err, tidbro.EINVALID, "decision "+d)
		if f := tidbro.ErrorField(err); f != "decision" {
			t.Errorf("decision %q: field %q, want decision", d, f)
		}
	}
	if got := holds(s.HoldsOfPair(ctx, p.ID)); got[0].Decision != tidbro.DecisionPropagate {
		t.Errorf("failed decisions changed the hold: %+v", got[0])
	}
	noErr(t, s.DecideHold(ctx, tn.ID, alice.ID, h.ID, tidbro.DecisionRestore))
	if got := holds(s.HoldsOfPair(ctx, p.ID)); got[0].Decision != tidbro.DecisionRestore || got[1].Decision != "" {
		t.Errorf("after deciding restore: %+v", got)
	}

	noErr(t, s.DeleteHold(ctx, p.ID, items[0].ID))
	if got := holds(s.HoldsOfPair(ctx, p.ID)); !reflect.DeepEqual(got, []tidbro.Hold{*h2}) {
		t.Errorf("holds after a delete = %+v", got)
	}
	noErr(t, s.DeleteHold(ctx, p.ID, items[0].ID))
	noErr(t, s.DeleteHold(ctx, pb.ID+1000, items[0].ID))
	wantCode(t, s.DecideHold(ctx, tn.ID, alice.ID, h.ID, tidbro.DecisionRestore), tidbro.ENOTFOUND, "deciding a deleted hold")
	if got := holds(s.Holds(ctx, tn.ID, bob.ID)); len(got) != 1 {
		t.Errorf("bob's holds after deleting alice's = %+v", got)
	}

	wantCode(t, s.PutHold(ctx, &tidbro.Hold{PairID: pb.ID + 1000, ItemID: items[0].ID, Kind: tidbro.KindContact, Side: "app"}),
		tidbro.ENOTFOUND, "hold in an unknown pair")
	wantCode(t, s.PutHold(ctx, &tidbro.Hold{PairID: pb.ID, UserID: alice.ID, ItemID: items[0].ID, Kind: tidbro.KindContact, Side: "app"}),
		tidbro.EINVALID, "alice's hold in bob's pair")
}

func testSettings(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "acme")
	other := newTenant(t, s, "other")
	const key = "jobs.mapping"
	_, err := s.Setting(ctx, tn.ID, key)
	wantCode(t, err, tidbro.ENOTFOUND, "unset setting")

	v1, v2 := []byte(`{"summary":"{{.jobNo}}"}`), []byte(`{"summary":"{{.customer}}","location":"{{.site}}"}`)
	noErr(t, s.PutSetting(ctx, tn.ID, key, v1))
	if got := must(s.Setting(ctx, tn.ID, key))(t); !bytes.Equal(got, v1) {
		t.Errorf("Setting = %s, want %s", got, v1)
	}
	noErr(t, s.PutSetting(ctx, tn.ID, key, v2))
	if got := must(s.Setting(ctx, tn.ID, key))(t); !bytes.Equal(got, v2) {
		t.Errorf("Setting after an update = %s, want %s", got, v2)
	}
	_, err = s.Setting(ctx, other.ID, key)
	wantCode(t, err, tidbro.ENOTFOUND, "setting of another tenant")
	noErr(t, s.PutSetting(ctx, other.ID, key, v1))
	if got := must(s.Setting(ctx, tn.ID, key))(t); !bytes.Equal(got, v2) {
		t.Errorf("another tenant's setting changed this one's: %s", got)
	}
	if got := must(s.Setting(ctx, other.ID, key))(t); !bytes.Equal(got, v1) {
		t.Errorf("other tenant's setting = %s, want %s", got, v1)
	}
	noErr(t, s.PutSetting(ctx, tn.ID, "empty", nil))
	if got := must(s.Setting(ctx, tn.ID, "empty"))(t); len(got) != 0 {
		t.Errorf("empty setting = %q", got)
	}
	wantCode(t, s.PutSetting(ctx, tn.ID, "", v1), tidbro.EINVALID, "setting without a key")
	wantCode(t, s.PutSetting(ctx, other.ID+1000, key, v1), tidbro.ENOTFOUND, "setting of an unknown tenant")

	// Sealed settings: encrypted at rest, apart from the plain ones.
	secretValue := []byte(`{"clientSecret":"s3cret"}`)
	_, err = s.SealedSetting(ctx, tn.ID, "graph")
	wantCode(t, err, tidbro.ENOTFOUND, "unset sealed setting")
	noErr(t, s.PutSealedSetting(ctx, tn.ID, "graph", secretValue))
	if got := must(s.SealedSetting(ctx, tn.ID, "graph"))(t); !bytes.Equal(got, secretValue) {
		t.Errorf("SealedSetting = %s, want %s", got, secretValue)
	}
	_, err = s.Setting(ctx, tn.ID, "graph")
	wantCode(t, err, tidbro.ENOTFOUND, "a sealed setting read plain")
	if raw, err := s.Setting(ctx, tn.ID, "sealed:graph"); err == nil && bytes.Contains(raw, []byte("s3cret")) {
		t.Errorf("the sealed setting is stored in the clear: %q", raw)
	}
	_, err = s.SealedSetting(ctx, other.ID, "graph")
	wantCode(t, err, tidbro.ENOTFOUND, "another tenant's sealed setting")
}

func testAccountByID(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	_, alice, bob := setup(t, s)
	a := newAccount(t, s, alice, "work")
	b := newAccount(t, s, bob, "work")
	got := must(s.AccountByID(ctx, a.ID))(t)
	if !reflect.DeepEqual(got, a) || got.Password != "pw-work" {
		t.Errorf("AccountByID = %+v, want %+v", got, a)
	}
	if got := must(s.AccountByID(ctx, b.ID))(t); got.UserID != bob.ID {
		t.Errorf("AccountByID of bob's = %+v", got)
	}
	_, err := s.AccountByID(ctx, b.ID+1000)
	wantCode(t, err, tidbro.ENOTFOUND, "unknown account")
	noErr(t, s.DeleteAccount(ctx, alice.ID, "work"))
	_, err = s.AccountByID(ctx, a.ID)
	wantCode(t, err, tidbro.ENOTFOUND, "deleted account")
}
