package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

// Tests of the SchedStore. Every time is an explicit now, with a fraction of
// a second that a store keeping less than microseconds would lose; leases
// expire by moving now, not by sleeping.

// at is t0 moved by d, t0 being a time at the stores' precision.
func at(d time.Duration) time.Time { return micro(0).Add(d) }

func schedule(t *testing.T, s tidbro.Store, pairID int64) *tidbro.PairSchedule {
	t.Helper()
	return must(s.Schedule(t.Context(), pairID))(t)
}

func claimIDs(cs []*tidbro.PairSchedule) []int64 {
	out := []int64{}
	for _, c := range cs {
		out = append(out, c.PairID)
	}
	return out
}

// claim claims up to limit pairs for owner at now, for a minute.
func claim(t *testing.T, s tidbro.Store, owner string, now time.Time, limit int) []int64 {
	t.Helper()
	return claimIDs(must(s.ClaimPairs(t.Context(), owner, now, time.Minute, limit))(t))
}

func wantClaim(t *testing.T, s tidbro.Store, owner string, now time.Time, limit int, want ...int64) {
	t.Helper()
	if want == nil {
		want = []int64{}
	}
	if got := claim(t, s, owner, now, limit); !slices.Equal(got, want) {
		t.Fatalf("ClaimPairs(%s, %s, %d) = %v, want %v", owner, now.Format(time.StampMicro), limit, got, want)
	}
}

// release leases the pair for owner "setup" and releases it with the given
// outcome; what request was waiting is cleared. It leases at a time after
// every lease the tests take, so any of them has expired.
func release(t *testing.T, s tidbro.Store, pairID int64, nextRun time.Time, attempts int, parked string) {
	t.Helper()
	ctx := t.Context()
	sch := must(s.LeasePair(ctx, pairID, "setup", at(1000*time.Hour), time.Minute))(t)
	sch.NextRun, sch.Attempts, sch.Parked = nextRun, attempts, parked
	noErr(t, s.ReleasePair(ctx, sch, "setup"))
}

func requestRuns(t *testing.T, s tidbro.Store, q tidbro.PairQuery, request string, unpark bool) int {
	t.Helper()
	return must(s.RequestRuns(t.Context(), q, request, unpark))(t)
}

// testScheduleLease follows one pair: due at once when new, claimed under a
// lease that keeps other owners out until it expires, released to its next
// run.
func testScheduleLease(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	_, alice, _ := setup(t, s)
	p := newPair(t, s, newAccount(t, s, alice, "work"), tidbro.KindEvent)

	want := tidbro.PairSchedule{PairID: p.ID}
	if got := schedule(t, s, p.ID); *got != want {
		t.Fatalf("schedule of a new pair = %+v, want %+v", got, want)
	}
	_, err := s.Schedule(ctx, p.ID+1000)
	wantCode(t, err, tidbro.ENOTFOUND, "Schedule of an unknown pair")

	// Due at once, whatever the time.
	got := must(s.ClaimPairs(ctx, "a", at(0), time.Minute, 10))(t)
	want.LeaseOwner, want.LeaseUntil = "a", at(time.Minute)
	if len(got) != 1 || *got[0] != want {
		t.Fatalf("ClaimPairs of a new pair = %+v, want [%+v]", got, want)
	}
	if got := schedule(t, s, p.ID); *got != want {
		t.Errorf("schedule after the claim = %+v, want %+v", got, want)
	}
	wantClaim(t, s, "a", at(time.Second), 10)
	wantClaim(t, s, "b", at(30*time.Second), 10)
	wantClaim(t, s, "b", at(time.Minute), 10) // held up to and including LeaseUntil

	// A lease its owner renews stays with it.
	noErr(t, s.RenewLease(ctx, p.ID, "a", at(2*time.Minute)))
	wantClaim(t, s, "b", at(time.Minute+time.Second), 10)
	// One that is not renewed expires, and another owner takes the pair.
	wantClaim(t, s, "b", at(2*time.Minute+time.Microsecond), 10, p.ID)
	wantCode(t, s.RenewLease(ctx, p.ID, "a", at(3*time.Minute)), tidbro.ECONFLICT, "RenewLease by the owner that lost the lease")
	stale := want
	stale.NextRun = at(time.Hour)
	wantCode(t, s.ReleasePair(ctx, &stale, "a"), tidbro.ECONFLICT, "ReleasePair by the owner that lost the lease")
	if got := schedule(t, s, p.ID); got.LeaseOwner != "b" || !got.NextRun.IsZero() {
		t.Errorf("a lease lost and then released by its old owner: %+v", got)
	}

	// Released, the pair waits for its next run; an expired lease that no
	// one took is still its owner's to renew and to release.
	noErr(t, s.RenewLease(ctx, p.ID, "b", at(5*time.Minute)))
	sch := schedule(t, s, p.ID)
	sch.NextRun, sch.Attempts = at(time.Hour), 2
	noErr(t, s.ReleasePair(ctx, sch, "b"))
	want = tidbro.PairSchedule{PairID: p.ID, NextRun: at(time.Hour), Attempts: 2}
	if got := schedule(t, s, p.ID); *got != want {
		t.Errorf("schedule after the release = %+v, want %+v", got, want)
	}
	wantCode(t, s.ReleasePair(ctx, sch, "b"), tidbro.ECONFLICT, "a second ReleasePair")
	wantCode(t, s.RenewLease(ctx, p.ID, "b", at(time.Hour)), tidbro.ECONFLICT, "RenewLease of a released pair")
	wantClaim(t, s, "a", at(time.Hour-time.Microsecond), 10)
	wantClaim(t, s, "a", at(time.Hour), 10, p.ID) // due at NextRun itself

	// A zero NextRun is due at once.
	sch = schedule(t, s, p.ID)
	sch.NextRun = time.Time{}
	noErr(t, s.ReleasePair(ctx, sch, "a"))
	if got := schedule(t, s, p.ID); !got.NextRun.IsZero() {
		t.Errorf("NextRun released as the zero time reads back as %v", got.NextRun)
	}
	wantClaim(t, s, "a", at(0), 10, p.ID)

	wantCode(t, s.RenewLease(ctx, p.ID+1000, "a", at(time.Hour)), tidbro.ENOTFOUND, "RenewLease of an unknown pair")
	wantCode(t, s.ReleasePair(ctx, &tidbro.PairSchedule{PairID: p.ID + 1000}, "a"), tidbro.ENOTFOUND, "ReleasePair of an unknown pair")
	// An empty owner would match a free lease.
	_, err = s.ClaimPairs(ctx, "", at(0), time.Minute, 1)
	wantCode(t, err, tidbro.EINVALID, "ClaimPairs without an owner")
	_, err = s.ClaimPairs(ctx, "a", at(0), 0, 1)
	wantCode(t, err, tidbro.EINVALID, "ClaimPairs without a lease time")
	wantCode(t, s.RenewLease(ctx, p.ID, "", at(time.Hour)), tidbro.EINVALID, "RenewLease without an owner")
	wantCode(t, s.ReleasePair(ctx, &tidbro.PairSchedule{PairID: p.ID}, ""), tidbro.EINVALID, "ReleasePair without an owner")
	_, err = s.LeasePair(ctx, p.ID, "", at(0), time.Minute)
	wantCode(t, err, tidbro.EINVALID, "LeasePair without an owner")
}

// testClaimOrder checks that claims take the pairs due longest, up to the
// limit, and that a request makes a pair due before its time.
func testClaimOrder(t *testing.T, s tidbro.Store) {
	tn, alice, _ := setup(t, s)
	var ps []*tidbro.Pair
	for _, name := range []string{"a", "b"} {
		a := newAccount(t, s, alice, name)
		for _, k := range []tidbro.Kind{tidbro.KindEvent, tidbro.KindTask, tidbro.KindContact} {
			ps = append(ps, newPair(t, s, a, k))
		}
	}
	// Due at 5s, 3s, 1s, 4s, 2s, and the last in an hour.
	for i, sec := range []int{5, 3, 1, 4, 2, 3600} {
		release(t, s, ps[i].ID, at(time.Duration(sec)*time.Second), 0, "")
	}
	wantClaim(t, s, "x", at(0), 10)
	if got := claim(t, s, "x", at(time.Second), 0); len(got) != 0 {
		t.Errorf("ClaimPairs with limit 0 = %v", got)
	}
	wantClaim(t, s, "x", at(10*time.Second), 2, ps[2].ID, ps[4].ID)
	wantClaim(t, s, "y", at(10*time.Second), 10, ps[1].ID, ps[3].ID, ps[0].ID)
	wantClaim(t, s, "z", at(10*time.Second), 10)

	// A request is due at once; among pairs due, the one due longest by
	// its time goes first.
	for i, p := range ps[:5] {
		release(t, s, p.ID, at(time.Duration(5-i)*time.Second), 0, "")
	}
	if n := requestRuns(t, s, tidbro.PairQuery{TenantID: tn.ID, PairID: ps[5].ID}, tidbro.RequestRun, false); n != 1 {
		t.Fatalf("RequestRuns of one pair asked %d", n)
	}
	wantClaim(t, s, "x", at(0), 10, ps[5].ID)
	wantClaim(t, s, "x", at(time.Minute), 10, ps[4].ID, ps[3].ID, ps[2].ID, ps[1].ID, ps[0].ID)
	// A requested pair due in an hour goes after one due for half an hour.
	for _, p := range ps[1:5] {
		release(t, s, p.ID, at(3*time.Hour), 0, "")
	}
	release(t, s, ps[5].ID, at(time.Hour), 0, "")
	requestRuns(t, s, tidbro.PairQuery{TenantID: tn.ID, PairID: ps[5].ID}, tidbro.RequestRun, false)
	release(t, s, ps[0].ID, at(30*time.Minute), 0, "")
	wantClaim(t, s, "x", at(2*time.Hour), 10, ps[0].ID, ps[5].ID)
}

// testParked checks that a parked pair waits, whatever its time and plain
// requests, until a request unparks it.
func testParked(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	p := newPair(t, s, newAccount(t, s, alice, "work"), tidbro.KindEvent)
	q := tidbro.PairQuery{TenantID: tn.ID, PairID: p.ID}

	release(t, s, p.ID, at(0), 3, "bad credentials")
	want := tidbro.PairSchedule{PairID: p.ID, NextRun: at(0), Attempts: 3, Parked: "bad credentials"}
	if got := schedule(t, s, p.ID); *got != want {
		t.Fatalf("parked schedule = %+v, want %+v", got, want)
	}
	wantClaim(t, s, "x", at(time.Hour), 10)
	requestRuns(t, s, q, tidbro.RequestFull, false)
	wantClaim(t, s, "x", at(time.Hour), 10)
	want.Request, want.RequestSeq = tidbro.RequestFull, 1
	if got := schedule(t, s, p.ID); *got != want {
		t.Errorf("parked schedule after a request = %+v, want %+v", got, want)
	}
	if due, leased, parked := must3(s.ScheduleCounts(ctx, at(time.Hour)))(t); due != 0 || leased != 0 || parked != 1 {
		t.Errorf("ScheduleCounts of a parked pair = %d due, %d leased, %d parked; want 0, 0, 1", due, leased, parked)
	}

	// Unparked, it runs the merged request at once, its failures forgotten.
	requestRuns(t, s, q, tidbro.RequestRun, true)
	want = tidbro.PairSchedule{PairID: p.ID, NextRun: at(0), Request: tidbro.RequestFull, RequestSeq: 2,
		LeaseOwner: "x", LeaseUntil: at(time.Hour + time.Minute)}
	if got := must(s.ClaimPairs(ctx, "x", at(time.Hour), time.Minute, 10))(t); len(got) != 1 || *got[0] != want {
		t.Fatalf("claim of the unparked pair = %+v, want [%+v]", got, want)
	}

	// Parked by a run during which it was unparked, the pair stays unparked:
	// the run tried the settings from before the change.
	requestRuns(t, s, q, tidbro.RequestRun, true)
	stale := want
	stale.Parked, stale.Attempts = "bad credentials", 4
	noErr(t, s.ReleasePair(ctx, &stale, "x"))
	want = tidbro.PairSchedule{PairID: p.ID, NextRun: at(0), Request: tidbro.RequestFull, RequestSeq: 3}
	if got := schedule(t, s, p.ID); *got != want {
		t.Errorf("released parked after an unpark during the run: %+v, want %+v", got, want)
	}
	// The next run that parks it parks it.
	sch := must(s.ClaimPairs(ctx, "x", at(time.Hour), time.Minute, 10))(t)
	if len(sch) != 1 {
		t.Fatalf("claim after an unpark during the run = %+v", sch)
	}
	sch[0].Parked, sch[0].Attempts = "bad credentials", 1
	noErr(t, s.ReleasePair(ctx, sch[0], "x"))
	if got := schedule(t, s, p.ID); got.Parked != "bad credentials" || got.Attempts != 1 || got.Request != "" {
		t.Errorf("parked again: %+v", got)
	}
	wantClaim(t, s, "x", at(2*time.Hour), 10)
}

// testReleaseRequest checks that a release clears the request the run was
// claimed with, and keeps one that came during the run.
func testReleaseRequest(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	p := newPair(t, s, newAccount(t, s, alice, "work"), tidbro.KindEvent)
	q := tidbro.PairQuery{TenantID: tn.ID, PairID: p.ID}
	release(t, s, p.ID, at(time.Hour), 0, "")

	requestRuns(t, s, q, tidbro.RequestFull, false)
	c := must(s.ClaimPairs(ctx, "x", at(0), time.Minute, 1))(t)
	if len(c) != 1 || c[0].Request != tidbro.RequestFull || c[0].RequestSeq != 1 {
		t.Fatalf("claim of a requested pair = %+v", c)
	}
	c[0].NextRun = at(2 * time.Hour)
	noErr(t, s.ReleasePair(ctx, c[0], "x"))
	want := tidbro.PairSchedule{PairID: p.ID, NextRun: at(2 * time.Hour), RequestSeq: 1}
	if got := schedule(t, s, p.ID); *got != want {
		t.Errorf("after running the request: %+v, want %+v", got, want)
	}
	wantClaim(t, s, "x", at(time.Hour), 10)

	// A request during the run stays, so the pair runs again at once.
	requestRuns(t, s, q, tidbro.RequestRun, false)
	c = must(s.ClaimPairs(ctx, "x", at(0), time.Minute, 1))(t)
	if len(c) != 1 || c[0].RequestSeq != 2 {
		t.Fatalf("claim of a requested pair = %+v", c)
	}
	requestRuns(t, s, q, tidbro.RequestSince+"2026-01-15", false)
	c[0].NextRun = at(3 * time.Hour)
	noErr(t, s.ReleasePair(ctx, c[0], "x"))
	want = tidbro.PairSchedule{PairID: p.ID, NextRun: at(3 * time.Hour), Request: tidbro.RequestSince + "2026-01-15", RequestSeq: 3}
	if got := schedule(t, s, p.ID); *got != want {
		t.Errorf("after a request during the run: %+v, want %+v", got, want)
	}
	wantClaim(t, s, "x", at(time.Minute), 10, p.ID)
}

// testRequestMerge checks how a request merges with the one waiting.
func testRequestMerge(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	p := newPair(t, s, newAccount(t, s, alice, "work"), tidbro.KindEvent)
	q := tidbro.PairQuery{TenantID: tn.ID, PairID: p.ID}
	const run, full = tidbro.RequestRun, tidbro.RequestFull
	since := func(date string) string { return tidbro.RequestSince + date }
	for _, c := range []struct {
		requests []string
		want     string
	}{
		{[]string{run}, run},
		{[]string{run, run}, run},
		{[]string{full}, full},
		{[]string{run, full}, full},
		{[]string{full, run}, full},
		{[]string{run, since("2026-01-10")}, since("2026-01-10")},
		{[]string{since("2026-01-10"), run}, since("2026-01-10")},
		{[]string{since("2026-01-10"), since("2025-12-31")}, since("2025-12-31")},
		{[]string{since("2025-12-31"), since("2026-01-10")}, since("2025-12-31")},
		{[]string{since("2026-01-02"), since("2026-01-10"), since("2026-01-03")}, since("2026-01-02")},
		{[]string{since("2026-02-01"), since("2026-01-31")}, since("2026-01-31")},
		{[]string{since("2026-01-10"), full}, full},
		{[]string{full, since("2026-01-10")}, full},
		{[]string{run, since("2026-01-10"), full, since("2025-01-01"), run}, full},
	} {
		before := schedule(t, s, p.ID)
		for _, r := range c.requests {
			if n := requestRuns(t, s, q, r, false); n != 1 {
				t.Fatalf("RequestRuns(%s) asked %d pairs", r, n)
			}
		}
		got := schedule(t, s, p.ID)
		if got.Request != c.want || got.RequestSeq != before.RequestSeq+int64(len(c.requests)) {
			t.Errorf("requests %v: %q at seq %d, want %q at %d", c.requests, got.Request, got.RequestSeq, c.want,
				before.RequestSeq+int64(len(c.requests)))
		}
		release(t, s, p.ID, at(time.Hour), 0, "")
		if got := schedule(t, s, p.ID); got.Request != "" {
			t.Fatalf("after the release the request is %q", got.Request)
		}
	}

	for _, r := range []string{"", "Run", "FULL", "runs", "since:", "since", "since:2026-1-02", "since:2026-13-01",
		"since:2026-02-30", "since:2026-01-02T00:00:00Z", " since:2026-01-02", "since:26-01-02"} {
		_, err := s.RequestRuns(ctx, q, r, false)
		wantCode(t, err, tidbro.EINVALID, fmt.Sprintf("RequestRuns(%q)", r))
	}
	_, err := s.RequestRuns(ctx, tidbro.PairQuery{PairID: p.ID}, run, false)
	wantCode(t, err, tidbro.EINVALID, "RequestRuns without a tenant")
	if got := schedule(t, s, p.ID); got.Request != "" {
		t.Errorf("invalid requests left %q", got.Request)
	}
}

// testRequestSelection checks which pairs RequestRuns and Pairs select.
func testRequestSelection(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	other := newTenant(t, s, "other")
	carol := newUser(t, s, other.ID, "carol")
	work, home := newAccount(t, s, alice, "work"), newAccount(t, s, alice, "home")
	workEv, workTask, homeCo := newPair(t, s, work, tidbro.KindEvent), newPair(t, s, work, tidbro.KindTask), newPair(t, s, home, tidbro.KindContact)
	bobEv := newPair(t, s, newAccount(t, s, bob, "work"), tidbro.KindEvent)
	carolEv := newPair(t, s, newAccount(t, s, carol, "work"), tidbro.KindEvent)
	all := []*tidbro.Pair{workEv, workTask, homeCo, bobEv, carolEv}

	for _, c := range []struct {
		q    tidbro.PairQuery
		want []int64
	}{
		{tidbro.PairQuery{TenantID: tn.ID}, []int64{workEv.ID, workTask.ID, homeCo.ID, bobEv.ID}},
		{tidbro.PairQuery{TenantID: tn.ID, UserID: alice.ID}, []int64{workEv.ID, workTask.ID, homeCo.ID}},
		{tidbro.PairQuery{TenantID: tn.ID, AccountID: work.ID}, []int64{workEv.ID, workTask.ID}},
		{tidbro.PairQuery{TenantID: tn.ID, PairID: workTask.ID}, []int64{workTask.ID}},
		{tidbro.PairQuery{TenantID: tn.ID, UserID: alice.ID, AccountID: home.ID}, []int64{homeCo.ID}},
		{tidbro.PairQuery{TenantID: tn.ID, AccountID: work.ID, PairID: workEv.ID}, []int64{workEv.ID}},
		{tidbro.PairQuery{TenantID: tn.ID, AccountID: home.ID, PairID: workEv.ID}, []int64{}},
		{tidbro.PairQuery{TenantID: tn.ID, UserID: bob.ID, PairID: workEv.ID}, []int64{}},
		{tidbro.PairQuery{TenantID: tn.ID, PairID: carolEv.ID}, []int64{}}, // another tenant's
		{tidbro.PairQuery{TenantID: other.ID, UserID: alice.ID}, []int64{}},
		{tidbro.PairQuery{TenantID: other.ID}, []int64{carolEv.ID}},
	} {
		if got := pairIDs(must(s.Pairs(ctx, c.q))(t)); !slices.Equal(got, c.want) {
			t.Errorf("Pairs(%+v) = %v, want %v", c.q, got, c.want)
		}
		for _, p := range all {
			release(t, s, p.ID, at(time.Hour), 0, "")
		}
		if n := requestRuns(t, s, c.q, tidbro.RequestRun, false); n != len(c.want) {
			t.Errorf("RequestRuns(%+v) asked %d pairs, want %d", c.q, n, len(c.want))
		}
		var got []int64
		for _, p := range all {
			if schedule(t, s, p.ID).Request != "" {
				got = append(got, p.ID)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("RequestRuns(%+v) asked %v, want %v", c.q, got, c.want)
		}
	}
}

// testLeasePair checks the lease of one pair whatever its schedule.
func testLeasePair(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	_, alice, _ := setup(t, s)
	a := newAccount(t, s, alice, "work")
	p, parked := newPair(t, s, a, tidbro.KindEvent), newPair(t, s, a, tidbro.KindContact)
	release(t, s, p.ID, at(time.Hour), 1, "")
	release(t, s, parked.ID, at(0), 0, "no mailbox")

	// Neither due nor free of parking matters.
	for _, id := range []int64{p.ID, parked.ID} {
		got := must(s.LeasePair(ctx, id, "cli", at(0), time.Minute))(t)
		if got.PairID != id || got.LeaseOwner != "cli" || !got.LeaseUntil.Equal(at(time.Minute)) {
			t.Errorf("LeasePair(%d) = %+v", id, got)
		}
	}
	if got := must(s.LeasePair(ctx, p.ID, "cli", at(0), time.Minute))(t); !got.NextRun.Equal(at(time.Hour)) || got.Attempts != 1 {
		t.Errorf("LeasePair returns the schedule %+v", got)
	}
	_, err := s.LeasePair(ctx, p.ID, "serve", at(30*time.Second), time.Minute)
	wantCode(t, err, tidbro.ECONFLICT, "LeasePair of a pair another owner holds")
	_, err = s.LeasePair(ctx, p.ID, "serve", at(time.Minute), time.Minute)
	wantCode(t, err, tidbro.ECONFLICT, "LeasePair at the end of another owner's lease")
	// The same owner may lease again, for longer.
	if got := must(s.LeasePair(ctx, p.ID, "cli", at(30*time.Second), time.Minute))(t); !got.LeaseUntil.Equal(at(90 * time.Second)) {
		t.Errorf("lease again until %v, want %v", got.LeaseUntil, at(90*time.Second))
	}
	// A leased pair is not claimed, however due.
	requestRuns(t, s, tidbro.PairQuery{TenantID: p.TenantID}, tidbro.RequestRun, true)
	wantClaim(t, s, "serve", at(time.Minute), 10)
	// An expired lease is anyone's.
	got := must(s.LeasePair(ctx, p.ID, "serve", at(90*time.Second+time.Microsecond), time.Minute))(t)
	if got.LeaseOwner != "serve" || got.Request != tidbro.RequestRun {
		t.Errorf("LeasePair after the lease expired = %+v", got)
	}
	wantCode(t, s.RenewLease(ctx, p.ID, "cli", at(time.Hour)), tidbro.ECONFLICT, "RenewLease by the owner whose lease was taken")
	noErr(t, s.ReleasePair(ctx, got, "serve"))
	if sch := schedule(t, s, p.ID); sch.LeaseOwner != "" || !sch.LeaseUntil.IsZero() || sch.Request != "" {
		t.Errorf("after the release: %+v", sch)
	}
	_, err = s.LeasePair(ctx, parked.ID+1000, "cli", at(0), time.Minute)
	wantCode(t, err, tidbro.ENOTFOUND, "LeasePair of an unknown pair")
}

func must3[A, B, C any](a A, b B, c C, err error) func(t *testing.T) (A, B, C) {
	return func(t *testing.T) (A, B, C) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b, c
	}
}

func testScheduleCounts(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	_, alice, _ := setup(t, s)
	var ps []*tidbro.Pair
	for _, name := range []string{"a", "b"} {
		a := newAccount(t, s, alice, name)
		for _, k := range []tidbro.Kind{tidbro.KindEvent, tidbro.KindTask, tidbro.KindContact} {
			ps = append(ps, newPair(t, s, a, k))
		}
	}
	wantCounts := func(now time.Time, wantDue, wantLeased, wantParked int) {
		t.Helper()
		due, leased, parked := must3(s.ScheduleCounts(ctx, now))(t)
		if due != wantDue || leased != wantLeased || parked != wantParked {
			t.Errorf("ScheduleCounts(%s) = %d due, %d leased, %d parked; want %d, %d, %d", now.Format(time.StampMicro),
				due, leased, parked, wantDue, wantLeased, wantParked)
		}
	}
	wantCounts(at(0), 6, 0, 0)
	release(t, s, ps[0].ID, at(time.Hour), 0, "")              // due in an hour
	release(t, s, ps[1].ID, at(2*time.Hour), 0, "")            // due in two hours
	release(t, s, ps[2].ID, at(0), 5, "bad credentials")       // parked
	must(s.LeasePair(ctx, ps[3].ID, "x", at(0), time.Hour))(t) // leased for an hour
	// ps[4] and ps[5] are due.
	wantCounts(at(0), 2, 1, 1)
	wantCounts(at(time.Hour), 3, 1, 1)
	wantCounts(at(time.Hour+time.Microsecond), 4, 0, 1) // the lease expired: due again
	requestRuns(t, s, tidbro.PairQuery{TenantID: ps[1].TenantID, PairID: ps[1].ID}, tidbro.RequestRun, false)
	wantCounts(at(0), 3, 1, 1)
	wantClaim(t, s, "y", at(0), 10, ps[4].ID, ps[5].ID, ps[1].ID)
	wantCounts(at(0), 0, 4, 1)
}

// testUsersChangedSince checks which users a position range touched, the
// former owner of a reassigned item among them.
func testUsersChangedSince(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	carol := newUser(t, s, tn.ID, "carol")
	other := newTenant(t, s, "other")
	olga := newUser(t, s, other.ID, "olga")
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	wantUsers := func(tenantID, since int64, wantHead int64, want ...int64) {
		t.Helper()
		users, h, err := s.UsersChangedSince(ctx, tenantID, since)
		noErr(t, err)
		if want == nil {
			want = []int64{}
		}
		if users == nil {
			users = []int64{}
		}
		if !slices.Equal(users, want) || h != wantHead {
			t.Errorf("UsersChangedSince(%d, %d) = %v, head %d; want %v, head %d", tenantID, since, users, h, want, wantHead)
		}
	}
	wantUsers(tn.ID, 0, 0)
	put(t, s, event(tn.ID, carol.ID, "c1", start, time.Hour))   // 1
	put(t, s, event(tn.ID, alice.ID, "a1", start, time.Hour))   // 2
	put(t, s, contact(tn.ID, carol.ID, "c2"))                   // 3
	put(t, s, event(other.ID, olga.ID, "o1", start, time.Hour)) // other's 1
	put(t, s, event(tn.ID, alice.ID, "a2", start, 2*time.Hour)) // 4
	wantUsers(tn.ID, 0, 4, alice.ID, carol.ID)                  // sorted, each once
	wantUsers(tn.ID, 1, 4, alice.ID, carol.ID)
	wantUsers(tn.ID, 3, 4, alice.ID)
	wantUsers(tn.ID, 4, 4)
	wantUsers(other.ID, 0, 1, olga.ID)

	// a1 moves to bob: it departs from alice's collection (5) and arrives in
	// bob's (6).
	a1 := event(tn.ID, bob.ID, "a1", start, time.Hour)
	put(t, s, a1)
	wantUsers(tn.ID, 4, 6, alice.ID, bob.ID)
	wantUsers(tn.ID, 5, 6, bob.ID)
	_, err := s.DeleteItem(ctx, tn.ID, tidbro.KindEvent, "c1", tidbro.Precondition{}, tidbro.OriginApp) // 7
	noErr(t, err)
	wantUsers(tn.ID, 6, 7, carol.ID)
	wantUsers(tn.ID, 0, 7, alice.ID, bob.ID, carol.ID)
	// A position past the head (a restored database) finds nothing, and
	// the head tells where the feed is.
	wantUsers(tn.ID, 100, 7)

	_, _, err = s.UsersChangedSince(ctx, other.ID+1000, 0)
	wantCode(t, err, tidbro.ENOTFOUND, "UsersChangedSince of an unknown tenant")
}

// testScheduleDeleted checks that a pair's schedule goes with the pair,
// whether the pair, its account or its user is deleted.
func testScheduleDeleted(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	work, home := newAccount(t, s, alice, "work"), newAccount(t, s, alice, "home")
	p, q := newPair(t, s, work, tidbro.KindEvent), newPair(t, s, work, tidbro.KindContact)
	r := newPair(t, s, home, tidbro.KindEvent)
	b := newPair(t, s, newAccount(t, s, bob, "work"), tidbro.KindEvent)
	must(s.LeasePair(ctx, q.ID, "x", at(0), time.Hour))(t)

	gone := func(pairID int64, what string) {
		t.Helper()
		_, err := s.Schedule(ctx, pairID)
		wantCode(t, err, tidbro.ENOTFOUND, "Schedule of "+what)
		var n int
		noErr(t, rawDB(t, s).QueryRowContext(ctx, fmt.Sprintf(`SELECT COUNT(*) FROM schedule WHERE pair_id = %d`, pairID)).Scan(&n))
		if n != 0 {
			t.Errorf("%s has %d schedule rows", what, n)
		}
		_, err = s.LeasePair(ctx, pairID, "x", at(0), time.Minute)
		wantCode(t, err, tidbro.ENOTFOUND, "LeasePair of "+what)
	}
	noErr(t, s.DeletePair(ctx, p.ID))
	gone(p.ID, "a deleted pair")
	if n := requestRuns(t, s, tidbro.PairQuery{TenantID: tn.ID}, tidbro.RequestRun, false); n != 3 {
		t.Errorf("RequestRuns after deleting a pair asked %d, want 3", n)
	}
	noErr(t, s.DeleteAccount(ctx, alice.ID, "work"))
	gone(q.ID, "a leased pair of a deleted account")
	wantCode(t, s.RenewLease(ctx, q.ID, "x", at(time.Hour)), tidbro.ENOTFOUND, "RenewLease of a pair deleted during the run")
	wantCode(t, s.ReleasePair(ctx, &tidbro.PairSchedule{PairID: q.ID}, "x"), tidbro.ENOTFOUND, "ReleasePair of a pair deleted during the run")
	noErr(t, s.DeleteUser(ctx, tn.ID, "bob"))
	gone(b.ID, "a pair of a deleted user")

	if due, leased, parked := must3(s.ScheduleCounts(ctx, at(0)))(t); due != 1 || leased != 0 || parked != 0 {
		t.Errorf("ScheduleCounts after the deletions = %d due, %d leased, %d parked; want 1, 0, 0", due, leased, parked)
	}
	wantClaim(t, s, "x", at(0), 10, r.ID)
	if n := requestRuns(t, s, tidbro.PairQuery{TenantID: tn.ID}, tidbro.RequestRun, false); n != 1 {
		t.Errorf("RequestRuns after the deletions asked %d, want 1", n)
	}

	// A pair made again is new, and due at once.
	again := newPair(t, s, home, tidbro.KindContact)
	if got := schedule(t, s, again.ID); *got != (tidbro.PairSchedule{PairID: again.ID}) {
		t.Errorf("schedule of a pair made again = %+v", got)
	}
	// Updating a pair leaves its schedule alone.
	r.RemoteName = "renamed"
	must(s.PutPair(ctx, r))(t)
	if got := schedule(t, s, r.ID); got.LeaseOwner != "x" || got.Request != tidbro.RequestRun {
		t.Errorf("schedule after updating the pair = %+v", got)
	}
}

// testConcurrentClaims has claimers race for the same due pairs: every pair
// goes to exactly one of them, first while the pairs are new and again once
// their leases expire. Owners racing for one pair's lease get it once, and
// racing requests (of a whole tenant and of one user) neither deadlock nor
// lose a count.
func testConcurrentClaims(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	var ps []*tidbro.Pair
	for i := range 10 {
		for _, u := range []*tidbro.User{alice, bob} {
			a := newAccount(t, s, u, fmt.Sprint("acct-", i))
			for _, k := range []tidbro.Kind{tidbro.KindEvent, tidbro.KindTask, tidbro.KindContact} {
				ps = append(ps, newPair(t, s, a, k))
			}
		}
	}
	const claimers = 8

	race := func(now time.Time) {
		t.Helper()
		var mu sync.Mutex
		owners := map[int64]string{}
		var wg sync.WaitGroup
		for c := range claimers {
			owner := fmt.Sprint("claimer-", c)
			wg.Go(func() {
				for {
					got, err := s.ClaimPairs(ctx, owner, now, time.Minute, 3)
					if err != nil {
						t.Errorf("%s: %v", owner, err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, g := range got {
						if prev, ok := owners[g.PairID]; ok {
							t.Errorf("pair %d claimed by %s and by %s", g.PairID, prev, owner)
						}
						owners[g.PairID] = owner
						if g.LeaseOwner != owner {
							t.Errorf("%s claimed pair %d with the lease of %q", owner, g.PairID, g.LeaseOwner)
						}
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(owners) != len(ps) {
			t.Errorf("claimers took %d of %d pairs", len(owners), len(ps))
		}
		for id, owner := range owners {
			if got := schedule(t, s, id); got.LeaseOwner != owner {
				t.Errorf("pair %d is leased to %q, but %s claimed it", id, got.LeaseOwner, owner)
			}
		}
	}
	race(at(0))
	race(at(time.Minute + time.Microsecond))

	// One pair's lease, raced for by many owners.
	var wins sync.WaitGroup
	var mu sync.Mutex
	var won []string
	for c := range claimers {
		owner := fmt.Sprint("cli-", c)
		wins.Go(func() {
			_, err := s.LeasePair(ctx, ps[0].ID, owner, at(time.Hour), time.Minute)
			switch tidbro.ErrorCode(err) {
			case "":
				mu.Lock()
				won = append(won, owner)
				mu.Unlock()
			case tidbro.ECONFLICT:
			default:
				t.Errorf("%s: %v", owner, err)
			}
		})
	}
	wins.Wait()
	if len(won) != 1 {
		t.Errorf("LeasePair raced by %d owners went to %v, want exactly one", claimers, won)
	}

	// Requests racing over overlapping sets of pairs.
	const rounds = 10
	var wg sync.WaitGroup
	for _, q := range []tidbro.PairQuery{{TenantID: tn.ID}, {TenantID: tn.ID, UserID: alice.ID}, {TenantID: tn.ID, UserID: bob.ID},
		{TenantID: tn.ID}} {
		wg.Go(func() {
			for range rounds {
				if _, err := s.RequestRuns(ctx, q, tidbro.RequestRun, false); err != nil {
					t.Errorf("RequestRuns(%+v): %v", q, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, p := range ps {
		if got := schedule(t, s, p.ID); got.RequestSeq != 3*rounds {
			t.Errorf("pair %d was asked %d times, want %d", p.ID, got.RequestSeq, 3*rounds)
		}
	}
}
