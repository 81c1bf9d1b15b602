// Package remotetest is the contract suite every tidbro.Remote passes: the
// CalDAV/CardDAV and Graph connectors against their test servers, and
// memremote, the reference implementation, in all its flavours.
package remotetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

// Harness is what a subtest runs against.
type Harness struct {
	Remote tidbro.Remote // the connector under test, bound to a fresh empty collection
	Peer   Peer          // another client editing the same collection out of band
	Kind   tidbro.Kind   // what the collection holds (event, task, contact)
}

// Peer is another client of the collection (a user in Outlook, a phone),
// writing without the connector: plain HTTP PUT/DELETE for CalDAV, direct
// calls for memremote.
type Peer interface {
	// Put creates an item (it.ID "") or replaces item it.ID unconditionally.
	// The returned ETag may be empty when the server does not tell.
	Put(ctx context.Context, it *tidbro.RemoteItem) (tidbro.RemoteRef, error)
	Delete(ctx context.Context, id string) error
}

// Run runs the suite. Each subtest calls newHarness for a fresh, empty
// collection; newHarness registers any cleanup with t.Cleanup.
//
// Removed may also name ids the remote never listed, not as deletions
// (Graph's occurrences of a deleted series).
//
// Bodies are compared in canonical form (tidbro's JSON normalisation) and
// semantically: default values equal their empty form (showAs busy, status
// confirmed or needs-action, alarm action display). Not compared: UIDs
// (Graph assigns its own iCalUId) and alarm descriptions (Graph has none,
// iCalendar requires one). Fields longer than Capabilities.FieldLimits are
// expected back truncated, and private flags dropped when the remote has no
// Private capability.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	tests := []struct {
		name       string
		eventsOnly bool
		fn         func(s *suite)
	}{
		{"Capabilities", false, testCapabilities},
		{"RoundTrip", false, testRoundTrip},
		{"IdempotentCreate", false, testIdempotentCreate},
		{"Update", false, testUpdate},
		{"Delete", false, testDelete},
		{"Changes", false, testChanges},
		{"OwnWritesInChanges", false, testOwnWritesInChanges},
		{"GarbageToken", false, testGarbageToken},
		{"Fetch", false, testFetch},
		{"FetchBatches", false, testFetchBatches},
		{"Window", true, testWindow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if h.Remote == nil || h.Peer == nil {
				t.Fatal("remotetest: the harness needs a Remote and a Peer")
			}
			if tc.eventsOnly && !isEvent(h.Kind) {
				t.Skipf("only for events; this collection holds %ss", h.Kind)
			}
			tc.fn(&suite{T: t, h: h, ctx: t.Context(), caps: h.Remote.Capabilities(), kind: h.Kind})
		})
	}
}

// suite is one subtest's state, with helpers that fail the test on errors.
type suite struct {
	*testing.T
	h    Harness
	ctx  context.Context
	caps tidbro.Capabilities
	kind tidbro.Kind
}

func testCapabilities(s *suite) {
	if !slices.Contains(s.caps.Kinds, s.kind) && !(s.kind == tidbro.KindJob && slices.Contains(s.caps.Kinds, tidbro.KindEvent)) {
		s.Errorf("Capabilities().Kinds = %v, want it to include the collection's kind %s", s.caps.Kinds, s.kind)
	}
	if s.caps.MaxBatch <= 0 {
		s.Errorf("Capabilities().MaxBatch = %d, want > 0", s.caps.MaxBatch)
	}
	for name, n := range s.caps.FieldLimits {
		if n <= 0 {
			s.Errorf("Capabilities().FieldLimits[%q] = %d, want > 0", name, n)
		}
	}
}

func testRoundTrip(s *suite) {
	want := Sample(s.kind, 1)
	ref := s.create("remotetest-roundtrip", want)
	got := s.mustFetch(ref.ID)
	if got.ID != ref.ID || got.ETag != ref.ETag {
		s.Errorf("Fetch returned %s/%s, Create returned %s/%s", got.ID, got.ETag, ref.ID, ref.ETag)
	}
	if remoteKind(got.Kind) != remoteKind(s.kind) {
		s.Errorf("Fetch returned a %s, want a %s", got.Kind, s.kind)
	}
	s.sameContent("item fetched after Create", want, got)

	full := s.changes("", nil)
	if etag, ok := refMap(full.Changed)[ref.ID]; !ok || etag != ref.ETag {
		s.Errorf("full listing has %s with etag %q (listed: %v), want %q", ref.ID, etag, ok, ref.ETag)
	}
}

func testIdempotentCreate(s *suite) {
	first := Sample(s.kind, 1)
	r1 := s.create("remotetest-idempotent", first)
	// A retry after a lost response: same key, same content.
	r2 := s.create("remotetest-idempotent", Sample(s.kind, 1))
	if r2 != r1 {
		s.Fatalf("second Create with the same key returned %s/%s, the first %s/%s; want the same item, unchanged", r2.ID, r2.ETag, r1.ID, r1.ETag)
	}
	// The key names the item: a Create with it does not write, whatever the
	// content (the app item changed while the first create was in doubt).
	other := Sample(s.kind, 1)
	mutate(other, "Other")
	if r3 := s.create("remotetest-idempotent", other); r3 != r1 {
		s.Errorf("Create with a used key and other content returned %s/%s, want the existing %s/%s", r3.ID, r3.ETag, r1.ID, r1.ETag)
	}
	got := s.mustFetch(r1.ID)
	if got.ETag != r1.ETag {
		s.Errorf("Creates with a used key changed the etag from %s to %s", r1.ETag, got.ETag)
	}
	s.sameContent("item after Creates with a used key", first, got)
	full := s.changes("", nil)
	if ids := slices.Sorted(maps.Keys(refMap(full.Changed))); !slices.Equal(ids, []string{r1.ID}) {
		s.Errorf("after two Creates with one key the collection holds %v, want just [%s]", ids, r1.ID)
	}
}

func testUpdate(s *suite) {
	ref := s.create("remotetest-update", Sample(s.kind, 1))
	upd := s.mustFetch(ref.ID)
	mutate(upd, "Changed")
	ref2, err := s.h.Remote.Update(s.ctx, upd, ref.ETag)
	if err != nil {
		s.Fatalf("Update with the current etag: %v", err)
	}
	if ref2.ID != ref.ID || ref2.ETag == "" || ref2.ETag == ref.ETag {
		s.Errorf("Update returned %s/%s, want %s with a new etag (was %s)", ref2.ID, ref2.ETag, ref.ID, ref.ETag)
	}
	got := s.mustFetch(ref.ID)
	if got.ETag != ref2.ETag {
		s.Errorf("Fetch after Update: etag %s, Update returned %s", got.ETag, ref2.ETag)
	}
	s.sameContent("item fetched after Update", upd, got)

	stale := s.mustFetch(ref.ID)
	mutate(stale, "Stale")
	_, err = s.h.Remote.Update(s.ctx, stale, ref.ETag)
	s.wantCode(err, tidbro.EPRECONDITION, "Update with a stale etag")
	after := s.mustFetch(ref.ID)
	if after.ETag != ref2.ETag {
		s.Errorf("a refused Update changed the etag from %s to %s", ref2.ETag, after.ETag)
	}
	s.sameContent("item after a refused Update", got, after)
}

func testDelete(s *suite) {
	ref := s.create("remotetest-delete", Sample(s.kind, 1))
	upd := s.mustFetch(ref.ID)
	mutate(upd, "Changed")
	ref2, err := s.h.Remote.Update(s.ctx, upd, ref.ETag)
	if err != nil {
		s.Fatalf("Update: %v", err)
	}

	err = s.h.Remote.Delete(s.ctx, ref.ID, ref.ETag)
	s.wantCode(err, tidbro.EPRECONDITION, "Delete with a stale etag")
	if got := s.fetchOne(ref.ID); got == nil || got.ETag != ref2.ETag {
		s.Fatalf("after a refused Delete the item is %v, want it unchanged with etag %s", describe(got), ref2.ETag)
	}

	before := s.changes("", nil)
	if err := s.h.Remote.Delete(s.ctx, ref.ID, ref2.ETag); err != nil {
		s.Fatalf("Delete with the current etag: %v", err)
	}
	if got := s.fetchOne(ref.ID); got != nil {
		s.Errorf("Fetch after Delete still returns %s", describe(got))
	}
	ch := s.changes(before.Token, nil)
	if s.caps.SyncTokens {
		if ch.Full {
			s.Errorf("Changes from a valid token after a Delete: a full listing, want an incremental one")
		}
		if !slices.Contains(removedIDs(ch.Removed), ref.ID) {
			s.Errorf("Changes after Delete: removed %v, want it to include %s", ch.Removed, ref.ID)
		}
	}
	if _, listed := refMap(ch.Changed)[ref.ID]; listed {
		s.Errorf("Changes after Delete still lists %s as changed", ref.ID)
	}

	if err := s.h.Remote.Delete(s.ctx, ref.ID, ref2.ETag); err != nil {
		s.Errorf("deleting a deleted item: %v, want nil", err)
	}
	if err := s.h.Remote.Delete(s.ctx, ref.ID, ""); err != nil {
		s.Errorf("deleting a deleted item without etag: %v, want nil", err)
	}

	// ifMatch "" deletes whatever the version.
	other := s.create("remotetest-delete-any", Sample(s.kind, 2))
	if err := s.h.Remote.Delete(s.ctx, other.ID, ""); err != nil {
		s.Fatalf("Delete without etag: %v", err)
	}
	if got := s.fetchOne(other.ID); got != nil {
		s.Errorf("Fetch after Delete without etag still returns %s", describe(got))
	}
}

func testChanges(s *suite) {
	empty := s.changes("", nil)
	if !empty.Full || len(empty.Changed) != 0 || len(empty.Removed) != 0 {
		s.Fatalf("full listing of a fresh collection: %s, want a full listing of nothing", describeChanges(empty))
	}
	a := s.create("remotetest-changes-a", Sample(s.kind, 1))
	b := s.create("remotetest-changes-b", Sample(s.kind, 2))
	c := s.create("remotetest-changes-c", Sample(s.kind, 3))

	full := s.changes("", nil)
	if !full.Full || len(full.Removed) != 0 {
		s.Errorf("full listing: %s, want Full and no removals", describeChanges(full))
	}
	s.sameRefs("full listing", full.Changed, a, b, c)

	// Another client creates, changes and deletes.
	bItem := s.mustFetch(b.ID)
	mutate(bItem, "Peer")
	s.peerPut(bItem)
	d := s.peerPut(Sample(s.kind, 4))
	if err := s.h.Peer.Delete(s.ctx, c.ID); err != nil {
		s.Fatalf("peer delete: %v", err)
	}
	now := s.fetch(a.ID, b.ID, d.ID)
	if len(now) != 3 {
		s.Fatalf("Fetch after the peer's writes found %d of a, b and the peer's new item", len(now))
	}
	s.sameContent("item changed by the peer", bItem, now[b.ID])
	aNow, bNow, dNow := ref(now[a.ID]), ref(now[b.ID]), ref(now[d.ID])
	if bNow.ETag == b.ETag {
		s.Errorf("the peer's change kept etag %s", b.ETag)
	}

	ch := s.changes(full.Token, nil)
	if !s.caps.SyncTokens {
		// Without sync tokens every answer is a full listing.
		if !ch.Full || len(ch.Removed) != 0 {
			s.Errorf("Changes without sync tokens: %s, want Full and no removals", describeChanges(ch))
		}
		s.sameRefs("listing after the peer's writes", ch.Changed, aNow, bNow, dNow)
		again := s.changes(ch.Token, nil)
		if !again.Full || len(again.Removed) != 0 {
			s.Errorf("second Changes without sync tokens: %s, want Full and no removals", describeChanges(again))
		}
		s.sameRefs("listing without changes", again.Changed, aNow, bNow, dNow)
		return
	}
	if ch.Full {
		s.Errorf("Changes from a valid token: a full listing, want an incremental one")
	}
	s.sameRefs("incremental Changes after the peer's writes", ch.Changed, bNow, dNow)
	s.removedOnly("incremental Changes after the peer's writes", ch.Removed, c.ID, aNow.ID, bNow.ID, dNow.ID)

	again := s.changes(ch.Token, nil)
	if again.Full || len(again.Changed) != 0 || len(again.Removed) != 0 {
		s.Errorf("Changes with nothing changed: %s, want nothing", describeChanges(again))
	}
}

// testOwnWritesInChanges: the engine recognises its own writes in Changes by
// the etags its writes returned.
func testOwnWritesInChanges(s *suite) {
	if !s.caps.SyncTokens {
		s.Skip("without sync tokens there are no incremental changes")
	}
	a := s.create("remotetest-own-a", Sample(s.kind, 1))
	b := s.create("remotetest-own-b", Sample(s.kind, 2))
	start := s.changes("", nil)

	c := s.create("remotetest-own-c", Sample(s.kind, 3))
	upd := s.mustFetch(a.ID)
	mutate(upd, "Changed")
	a2, err := s.h.Remote.Update(s.ctx, upd, a.ETag)
	if err != nil {
		s.Fatalf("Update: %v", err)
	}
	if err := s.h.Remote.Delete(s.ctx, b.ID, b.ETag); err != nil {
		s.Fatalf("Delete: %v", err)
	}
	ch := s.changes(start.Token, nil)
	s.sameRefs("incremental Changes after own writes", ch.Changed, a2, c)
	s.removedOnly("incremental Changes after own writes", ch.Removed, b.ID, a2.ID, c.ID)
}

func testGarbageToken(s *suite) {
	ref := s.create("remotetest-garbage", Sample(s.kind, 1))
	// Plain ASCII, so that it reaches the server in any request format.
	ch, err := s.h.Remote.Changes(s.ctx, "remotetest-garbage-token-0000", nil)
	switch {
	case err != nil:
		// The engine starts over with a full listing on EINVALID.
		s.wantCode(err, tidbro.EINVALID, "Changes from a garbage token")
	case ch == nil || !ch.Full:
		s.Errorf("Changes from a garbage token: %s, want an EINVALID error or a full listing", describeChanges(ch))
	default:
		if _, ok := refMap(ch.Changed)[ref.ID]; !ok {
			s.Errorf("Changes from a garbage token: a full listing without the collection's item %s", ref.ID)
		}
	}
}

func testFetch(s *suite) {
	a := s.create("remotetest-fetch-a", Sample(s.kind, 1))
	b := s.create("remotetest-fetch-b", Sample(s.kind, 2))
	items, errs, err := s.h.Remote.Fetch(s.ctx, []string{a.ID, "remotetest-no-such-item", b.ID})
	if err != nil || len(errs) != 0 {
		s.Fatalf("Fetch with an unknown id: %v, item errors %v", err, errs)
	}
	s.sameRefs("Fetch with an unknown id", refsOf(items), a, b)

	items, errs, err = s.h.Remote.Fetch(s.ctx, nil)
	if err != nil || len(errs) != 0 || len(items) != 0 {
		s.Errorf("Fetch of no ids: %d items, item errors %v, error %v; want nothing", len(items), errs, err)
	}

	// What Fetch returns is the caller's: changing it changes nothing remote.
	first := s.fetchOne(a.ID)
	mutate(first, "Local")
	if again := s.fetchOne(a.ID); again == nil || again.ETag != a.ETag {
		s.Fatalf("Fetch(%q) again: %s, want etag %s", a.ID, describe(again), a.ETag)
	} else {
		s.sameContent("item fetched again after changing a fetched copy", Sample(s.kind, 1), again)
	}
}

func testFetchBatches(s *suite) {
	n := s.caps.MaxBatch + 2
	refs := make([]tidbro.RemoteRef, n)
	ids := make([]string, 0, n+1)
	for i := range n {
		refs[i] = s.create(fmt.Sprintf("remotetest-batch-%03d", i), Sample(s.kind, i))
		ids = append(ids, refs[i].ID)
		if i == n/2 {
			ids = append(ids, "remotetest-no-such-item")
		}
	}
	items, errs, err := s.h.Remote.Fetch(s.ctx, ids)
	if err != nil || len(errs) != 0 {
		s.Fatalf("Fetch of %d ids (MaxBatch %d): %v, item errors %v", len(ids), s.caps.MaxBatch, err, errs)
	}
	s.sameRefs(fmt.Sprintf("Fetch of %d ids (MaxBatch %d)", len(ids), s.caps.MaxBatch), refsOf(items), refs...)
	s.sameRefs(fmt.Sprintf("full listing of %d items", n), s.changes("", nil).Changed, refs...)
}

func testWindow(s *suite) {
	inside, outside := windowEvents()
	ids := map[string]string{}
	for _, set := range []map[string]*tidbro.Event{inside, outside} {
		for _, name := range slices.Sorted(maps.Keys(set)) {
			it, err := canonical(&tidbro.RemoteItem{Kind: s.kind, Event: set[name]})
			if err != nil {
				s.Fatal(err)
			}
			ids[name] = s.create("remotetest-window-"+name, it).ID
		}
	}
	w := window
	ch := s.changes("", &w)
	if !ch.Full || len(ch.Removed) != 0 {
		s.Errorf("full listing with a window: %s, want Full and no removals", describeChanges(ch))
	}
	listed := refMap(ch.Changed)
	for name := range inside {
		if _, ok := listed[ids[name]]; !ok {
			s.Errorf("full listing for [%s, %s): %q (%s) occurs in it but is not listed", w.From.Format(time.DateOnly), w.To.Format(time.DateOnly), name, ids[name])
		}
	}
	// Items outside may be listed: a remote filters "where it can", and the
	// engine applies the window itself.
	for name := range outside {
		if _, ok := listed[ids[name]]; ok {
			s.Logf("full listing for [%s, %s): %q is outside but listed (allowed)", w.From.Format(time.DateOnly), w.To.Format(time.DateOnly), name)
		}
	}
}

// create makes an item and checks the reference it gets.
func (s *suite) create(key string, it *tidbro.RemoteItem) tidbro.RemoteRef {
	s.Helper()
	ref, err := s.h.Remote.Create(s.ctx, key, it)
	if err != nil {
		s.Fatalf("Create(%q): %v", key, err)
	}
	if ref.ID == "" || ref.ETag == "" {
		s.Fatalf("Create(%q) returned id %q, etag %q; want both", key, ref.ID, ref.ETag)
	}
	return ref
}

// peerPut writes through the peer and returns the item's reference.
func (s *suite) peerPut(it *tidbro.RemoteItem) tidbro.RemoteRef {
	s.Helper()
	ref, err := s.h.Peer.Put(s.ctx, it)
	if err != nil {
		s.Fatalf("peer put: %v", err)
	}
	if ref.ID == "" {
		s.Fatal("peer put returned no id")
	}
	return ref
}

// fetch returns the items by id; unknown ones are missing from the map.
func (s *suite) fetch(ids ...string) map[string]*tidbro.RemoteItem {
	s.Helper()
	items, errs, err := s.h.Remote.Fetch(s.ctx, ids)
	if err != nil || len(errs) != 0 {
		s.Fatalf("Fetch(%q): %v, item errors %v", ids, err, errs)
	}
	out := map[string]*tidbro.RemoteItem{}
	for _, it := range items {
		if out[it.ID] != nil {
			s.Errorf("Fetch(%q) returned %s twice", ids, it.ID)
		}
		out[it.ID] = it
	}
	return out
}

// mustFetch fetches an item that must be there.
func (s *suite) mustFetch(id string) *tidbro.RemoteItem {
	s.Helper()
	it := s.fetchOne(id)
	if it == nil {
		s.Fatalf("Fetch(%q): not found", id)
	}
	return it
}

func (s *suite) fetchOne(id string) *tidbro.RemoteItem {
	s.Helper()
	return s.fetch(id)[id]
}

func (s *suite) changes(token string, w *tidbro.TimeRange) *tidbro.RemoteChanges {
	s.Helper()
	ch, err := s.h.Remote.Changes(s.ctx, token, w)
	if err != nil {
		s.Fatalf("Changes(%q): %v", token, err)
	}
	if ch == nil {
		s.Fatalf("Changes(%q) returned nil", token)
	}
	if ch.Token == "" && s.caps.SyncTokens {
		s.Errorf("Changes(%q) returned no token", token)
	}
	if ids := slices.Collect(maps.Keys(refMap(ch.Changed))); len(ids) != len(ch.Changed) {
		s.Errorf("Changes(%q) lists an item twice: %v", token, ch.Changed)
	}
	return ch
}

// sameRefs checks that refs are exactly want (as a set, with their etags).
func (s *suite) sameRefs(what string, refs []tidbro.RemoteRef, want ...tidbro.RemoteRef) {
	s.Helper()
	got, exp := refMap(refs), refMap(want)
	for id, etag := range exp {
		switch g, ok := got[id]; {
		case !ok:
			s.Errorf("%s: %s is missing", what, id)
		case g != etag:
			s.Errorf("%s: %s has etag %s, want %s", what, id, g, etag)
		}
	}
	for id := range got {
		if _, ok := exp[id]; !ok {
			s.Errorf("%s: unexpected %s", what, id)
		}
	}
}

// removedOnly checks that removed names gone, and beyond it only ids the
// remote never listed, not as deletions: Graph's calendarView delta removes
// a series' occurrences, whose ids are no items of the collection (the
// engine ignores ids it has no link for). live are the collection's items.
func (s *suite) removedOnly(what string, removed []tidbro.Removed, gone string, live ...string) {
	s.Helper()
	found := false
	for _, r := range removed {
		switch {
		case r.ID == gone:
			found = true
		case slices.Contains(live, r.ID):
			s.Errorf("%s: removed the live item %s", what, r.ID)
		case r.Deleted:
			s.Errorf("%s: %s reported deleted, but it was never an item", what, r.ID)
		}
	}
	if !found {
		s.Errorf("%s: removed %v, want %s among them", what, removedIDs(removed), gone)
	}
}

func (s *suite) wantCode(err error, code, what string) {
	s.Helper()
	if got := tidbro.ErrorCode(err); got != code {
		s.Errorf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

// sameContent checks that got holds what a write of want should leave on
// this remote.
func (s *suite) sameContent(what string, want, got *tidbro.RemoteItem) {
	s.Helper()
	w, err := comparableForm(want)
	if err != nil {
		s.Fatal(err)
	}
	applyLimits(w, s.caps.FieldLimits, !s.caps.Private)
	g, err := comparableForm(got)
	if err != nil {
		s.Fatal(err)
	}
	k := remoteKind(s.kind)
	if wh, gh := w.Item(k).ContentHash(), g.Item(k).ContentHash(); wh != gh {
		s.Errorf("%s differs from what was written (FieldLimits %v, Private %v):\n%s", what, s.caps.FieldLimits, s.caps.Private, diffBodies(w, g))
	}
}

// mutate changes it visibly, whatever the field limits: tag prefixes texts,
// and a number or time changes too.
func mutate(it *tidbro.RemoteItem, tag string) {
	switch {
	case it.Event != nil:
		e := it.Event
		e.Summary = tag + ": " + e.Summary
		e.Location = tag + ": " + e.Location
		e.End = e.End.Add(30 * time.Minute)
	case it.Task != nil:
		t := it.Task
		t.Summary = tag + ": " + t.Summary
		t.Priority = t.Priority%9 + 1
	case it.Contact != nil:
		c := it.Contact
		c.DisplayName = tag + ": " + c.DisplayName
		c.Title = tag + ": " + c.Title
		if len(c.Phones) > 0 {
			c.Phones[0].Number += fmt.Sprintf(" %d", len(tag))
		} else {
			c.Phones = []tidbro.Phone{{Number: "+1 555 0100"}}
		}
	}
}

func isEvent(k tidbro.Kind) bool { return k == tidbro.KindEvent || k == tidbro.KindJob }

// remoteKind: jobs are events on a remote.
func remoteKind(k tidbro.Kind) tidbro.Kind {
	if k == tidbro.KindJob {
		return tidbro.KindEvent
	}
	return k
}

func ref(it *tidbro.RemoteItem) tidbro.RemoteRef { return tidbro.RemoteRef{ID: it.ID, ETag: it.ETag} }

func refsOf(items []*tidbro.RemoteItem) []tidbro.RemoteRef {
	out := make([]tidbro.RemoteRef, len(items))
	for i, it := range items {
		out[i] = ref(it)
	}
	return out
}

func refMap(refs []tidbro.RemoteRef) map[string]string {
	m := make(map[string]string, len(refs))
	for _, r := range refs {
		m[r.ID] = r.ETag
	}
	return m
}

func removedIDs(rs []tidbro.Removed) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return ids
}

func describe(it *tidbro.RemoteItem) string {
	if it == nil {
		return "gone"
	}
	return fmt.Sprintf("%s with etag %s", it.ID, it.ETag)
}

func describeChanges(ch *tidbro.RemoteChanges) string {
	if ch == nil {
		return "nil"
	}
	return fmt.Sprintf("Full=%v changed=%v removed=%v", ch.Full, ch.Changed, ch.Removed)
}
