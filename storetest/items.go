package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

// Bodies in canonical form (UTC, whole seconds, defaults filled), so that
// they read back deeply equal.

func richEvent() *tidbro.Event {
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC) // a Monday, 09:00 in Stockholm
	moved := start.AddDate(0, 0, 14)
	cancelled := start.AddDate(0, 0, 21)
	at := time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)
	return &tidbro.Event{
		UID: "ev-1@example.com", Summary: "Team meeting", Description: "Weekly sync\nwith notes", Location: "Room 4",
		Start: start, End: start.Add(time.Hour), TimeZone: "Europe/Stockholm",
		RRule:   "FREQ=WEEKLY;COUNT=10;BYDAY=MO",
		RDates:  []time.Time{time.Date(2026, 3, 5, 8, 0, 0, 0, time.UTC)},
		ExDates: []time.Time{start.AddDate(0, 0, 7)},
		Overrides: []tidbro.Event{
			{RecurrenceID: &moved, Start: moved.Add(2 * time.Hour), End: moved.Add(3 * time.Hour),
				Summary: "Team meeting (moved)", TimeZone: "Europe/Stockholm"},
			{RecurrenceID: &cancelled, Start: cancelled, End: cancelled.Add(time.Hour), Cancelled: true, TimeZone: "Europe/Stockholm"},
		},
		Status: "confirmed", ShowAs: "busy", Private: true,
		Categories: []string{"work", "team"},
		Alarms: []tidbro.Alarm{
			{Action: "display", Trigger: "-PT15M", Description: "Soon"},
			{Action: "email", At: &at},
		},
		Organizer: &tidbro.Attendee{Email: "boss@example.com", Name: "Boss", Role: "chair"},
		Attendees: []tidbro.Attendee{{Email: "alice@example.com", Name: "Alice", Role: "required", Status: "accepted"}},
		URL:       "https://example.com/meetings/1",
		Extra:     map[string]string{"room": "4"},
	}
}

func richTask() *tidbro.Task {
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	due := start.AddDate(0, 0, 3)
	done := start.AddDate(0, 0, 2)
	return &tidbro.Task{
		UID: "task-1", Summary: "Write report", Description: "Quarterly", Start: &start, Due: &due, Completed: &done,
		TimeZone: "Europe/Berlin", Status: "in-process", Priority: 2, Percent: 40, Assignee: "Alice",
		Categories: []string{"reports"}, URL: "https://example.com/tasks/1", Extra: map[string]string{"project": "P-7"},
	}
}

func richContact() *tidbro.Contact {
	return &tidbro.Contact{
		UID: "contact-1", DisplayName: "Dr. Ada Lovelace", Prefix: "Dr.", GivenName: "Ada", MiddleName: "King",
		FamilyName: "Lovelace", Nickname: "Ada", Organization: "Analytical Engines", Department: "R&D", Title: "Countess",
		Emails:     []tidbro.Email{{Type: "work", Address: "ada@example.com", Preferred: true}, {Type: "home", Address: "ada@home.example"}},
		Phones:     []tidbro.Phone{{Type: "mobile", Number: "+44 20 7946 0000"}},
		Addresses:  []tidbro.Address{{Type: "work", Street: "1 Engine St", Locality: "London", PostalCode: "N1", Country: "UK"}},
		URLs:       []string{"https://example.com/ada"},
		Note:       "Notes with ünïcödé",
		Birthday:   "1815-12-10",
		Photo:      &tidbro.Photo{MediaType: "image/png", Data: []byte{0x89, 'P', 'N', 'G', 0, 1, 2, 0xff}},
		Categories: []string{"vip"},
		Extra:      map[string]string{"crm": "C-1"},
	}
}

func testItemRoundTrip(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	job := &tidbro.Event{
		Summary: "Install boiler", Start: time.Date(2026, 3, 3, 7, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 3, 11, 0, 0, 0, time.UTC),
		Extra: map[string]string{"jobNo": "J-1001", "customer": "ACME"},
	}
	for _, in := range []*tidbro.Item{
		{Kind: tidbro.KindEvent, AppID: "ev-1", Type: "appointment", Event: richEvent()},
		{Kind: tidbro.KindJob, AppID: "job-1", Type: "job", Origin: tidbro.OriginGroupware, Event: job},
		{Kind: tidbro.KindTask, AppID: "task-1", Type: "activity", Task: richTask()},
		{Kind: tidbro.KindContact, AppID: "contact-1", Contact: richContact()},
	} {
		in.TenantID, in.OwnerID, in.ChangedBy = tn.ID, alice.ID, tidbro.OriginApp
		h := head(t, s, tn.ID)
		stored := put(t, s, in)
		wantOrigin := in.Origin
		if wantOrigin == "" {
			wantOrigin = in.ChangedBy
		}
		if stored.ID == 0 || stored.TenantID != tn.ID || stored.OwnerID != alice.ID || stored.Owner != "alice" ||
			stored.Kind != in.Kind || stored.AppID != in.AppID || stored.Type != in.Type ||
			stored.Origin != wantOrigin || stored.ChangedBy != tidbro.OriginApp ||
			stored.Version != 1 || stored.Seq != h+1 || stored.Deleted ||
			stored.Created.IsZero() || !stored.Updated.Equal(stored.Created) {
			t.Errorf("%s: stored envelope %+v", in.AppID, stored)
		}
		if stored.Hash == "" || stored.Hash != stored.ContentHash() {
			t.Errorf("%s: stored hash %q, content hash %q", in.AppID, stored.Hash, stored.ContentHash())
		}
		if !reflect.DeepEqual(stored.Body(), in.Body()) {
			t.Errorf("%s: stored body\n%+v\nwant\n%+v", in.AppID, stored.Body(), in.Body())
		}
		got := must(s.Item(ctx, tn.ID, in.Kind, in.AppID))(t)
		if !reflect.DeepEqual(got, stored) {
			t.Errorf("%s: read back\n%+v\nwant\n%+v", in.AppID, got, stored)
		}
		if !reflect.DeepEqual(got.Body(), in.Body()) {
			t.Errorf("%s: read body\n%+v\nwant\n%+v", in.AppID, got.Body(), in.Body())
		}
		cs := must(s.Changes(ctx, tidbro.ChangeQuery{TenantID: tn.ID, Since: h}))(t)
		if len(cs) != 1 || cs[0].Seq != h+1 || cs[0].Op != tidbro.OpUpsert || cs[0].Version != 1 || cs[0].User != "alice" ||
			cs[0].ChangedBy != tidbro.OriginApp || !cs[0].Latest() || !reflect.DeepEqual(cs[0].Item, stored) {
			t.Errorf("%s: feed %v, want the stored item at %d", in.AppID, describe(cs), h+1)
		}
	}
	// Kind is part of the key: an event and a contact may share an app id.
	put(t, s, contact(tn.ID, alice.ID, "ev-1"))
	if got := must(s.Item(ctx, tn.ID, tidbro.KindEvent, "ev-1"))(t); got.Event == nil || got.Version != 1 {
		t.Errorf("event ev-1 after a contact ev-1 = %+v", got)
	}
	_, err := s.Item(ctx, tn.ID, tidbro.KindTask, "nope")
	wantCode(t, err, tidbro.ENOTFOUND, "unknown item")
}

func testIdempotentPut(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	in := event(tn.ID, alice.ID, "e1", start, time.Hour)
	first := put(t, s, in)
	h := head(t, s, tn.ID)

	again, changed, err := s.PutItem(ctx, in, tidbro.Precondition{})
	noErr(t, err)
	if changed || !reflect.DeepEqual(again, first) {
		t.Errorf("same put: changed = %v, stored %+v; want unchanged %+v", changed, again, first)
	}
	// Another writer with the same content changes nothing either, and the
	// same instants written in another zone are the same content.
	same := event(tn.ID, alice.ID, "e1", start.In(time.FixedZone("X", 5*3600)), time.Hour)
	same.ChangedBy = tidbro.OriginGroupware
	again, changed, err = s.PutItem(ctx, same, tidbro.Precondition{})
	noErr(t, err)
	if changed || again.Version != 1 || again.ChangedBy != tidbro.OriginApp {
		t.Errorf("same content by groupware: changed = %v, %+v", changed, again)
	}
	if got := head(t, s, tn.ID); got != h {
		t.Errorf("Head after no-op puts = %d, want %d", got, h)
	}
	if cs := changes(t, s, tidbro.ChangeQuery{TenantID: tn.ID}); len(cs) != 1 || cs[0].Seq != first.Seq {
		t.Errorf("feed = %v, want e1 once at %d", describe(cs), first.Seq)
	}

	// The store hashes the body as it reads back: an all-day event that ends
	// where it starts lasts the day, so writing that end is no change.
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	allDay := event(tn.ID, alice.ID, "e2", day, 0)
	allDay.Event.AllDay = true
	stored := put(t, s, allDay)
	if !stored.Event.End.Equal(day.AddDate(0, 0, 1)) || stored.Hash != stored.ContentHash() {
		t.Errorf("all-day event stored as %+v, hash %s vs %s", stored.Event, stored.Hash, stored.ContentHash())
	}
	explicit := event(tn.ID, alice.ID, "e2", day, 24*time.Hour)
	explicit.Event.AllDay = true
	_, changed, err = s.PutItem(ctx, explicit, tidbro.Precondition{})
	noErr(t, err)
	if changed {
		t.Error("writing the default end explicitly counted as a change")
	}
}

func testVersions(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	v1 := put(t, s, event(tn.ID, alice.ID, "e1", start, time.Hour))
	time.Sleep(2 * time.Millisecond)

	in := event(tn.ID, alice.ID, "e1", start, time.Hour)
	in.Event.Summary = "renamed"
	in.ChangedBy = tidbro.OriginGroupware
	v2 := put(t, s, in)
	if v2.ID != v1.ID || v2.Version != 2 || v2.Seq <= v1.Seq || v2.Hash == v1.Hash ||
		!v2.Created.Equal(v1.Created) || !v2.Updated.After(v1.Updated) {
		t.Errorf("after a content change: %+v, from %+v", v2, v1)
	}
	if v2.Origin != tidbro.OriginApp || v2.ChangedBy != tidbro.OriginGroupware {
		t.Errorf("origin %q, changed by %q; want app (kept), groupware", v2.Origin, v2.ChangedBy)
	}

	in.Type = "meeting" // the type alone is a change
	v3 := put(t, s, in)
	if v3.Version != 3 || v3.Seq <= v2.Seq || v3.Type != "meeting" {
		t.Errorf("after a type change: %+v", v3)
	}

	in.OwnerID = bob.ID // and so is the owner alone
	v4 := put(t, s, in)
	if v4.Version != 4 || v4.Seq <= v3.Seq || v4.OwnerID != bob.ID || v4.Owner != "bob" || v4.Hash != v3.Hash {
		t.Errorf("after an owner change: %+v", v4)
	}
	if got := must(s.Item(ctx, tn.ID, tidbro.KindEvent, "e1"))(t); !reflect.DeepEqual(got, v4) {
		t.Errorf("read %+v, want %+v", got, v4)
	}
	if h := head(t, s, tn.ID); h != v4.Seq {
		t.Errorf("Head = %d, want the last write's %d", h, v4.Seq)
	}
}

func testPreconditions(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	in := event(tn.ID, alice.ID, "e1", start, time.Hour)

	v1, _, err := s.PutItem(ctx, in, tidbro.Precondition{IfNoneMatch: true})
	noErr(t, err)
	h := head(t, s, tn.ID)

	in.Event.Summary = "changed"
	_, _, err = s.PutItem(ctx, in, tidbro.Precondition{IfNoneMatch: true})
	wantCode(t, err, tidbro.EPRECONDITION, "IfNoneMatch on a live item")
	_, _, err = s.PutItem(ctx, in, tidbro.Precondition{IfMatch: 5})
	wantCode(t, err, tidbro.EPRECONDITION, "IfMatch with a wrong version")
	_, _, err = s.PutItem(ctx, event(tn.ID, alice.ID, "missing", start, time.Hour), tidbro.Precondition{IfMatch: 1})
	wantCode(t, err, tidbro.EPRECONDITION, "IfMatch on a missing item")
	_, err = s.Item(ctx, tn.ID, tidbro.KindEvent, "missing")
	wantCode(t, err, tidbro.ENOTFOUND, "item refused by IfMatch")
	if got := must(s.Item(ctx, tn.ID, tidbro.KindEvent, "e1"))(t); !reflect.DeepEqual(got, v1) {
		t.Errorf("failed writes changed the item: %+v", got)
	}
	if got := head(t, s, tn.ID); got != h {
		t.Errorf("failed writes moved Head from %d to %d", h, got)
	}

	v2, changed, err := s.PutItem(ctx, in, tidbro.Precondition{IfMatch: 1})
	noErr(t, err)
	if !changed || v2.Version != 2 {
		t.Errorf("IfMatch 1: changed = %v, version %d", changed, v2.Version)
	}

	_, err = s.DeleteItem(ctx, tn.ID, tidbro.KindEvent, "e1", tidbro.Precondition{IfMatch: 1}, tidbro.OriginApp)
	wantCode(t, err, tidbro.EPRECONDITION, "delete with a stale version")
	must(s.Item(ctx, tn.ID, tidbro.KindEvent, "e1"))(t)
	del := must(s.DeleteItem(ctx, tn.ID, tidbro.KindEvent, "e1", tidbro.Precondition{IfMatch: 2}, tidbro.OriginApp))(t)
	if del.Version != 3 {
		t.Errorf("tombstone version %d, want 3", del.Version)
	}
	_, _, err = s.PutItem(ctx, in, tidbro.Precondition{IfMatch: 3})
	wantCode(t, err, tidbro.EPRECONDITION, "IfMatch on a tombstone")
	back, _, err := s.PutItem(ctx, in, tidbro.Precondition{IfNoneMatch: true})
	noErr(t, err)
	if back.Version != 4 || back.Deleted {
		t.Errorf("IfNoneMatch on a tombstone revived %+v", back)
	}
}

func testDeleteAndRevive(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	in := event(tn.ID, alice.ID, "e1", start, time.Hour)
	v1 := put(t, s, in)
	h := head(t, s, tn.ID)

	del := must(s.DeleteItem(ctx, tn.ID, tidbro.KindEvent, "e1", tidbro.Precondition{}, tidbro.OriginGroupware))(t)
	if !del.Deleted || del.ID != v1.ID || del.Version != 2 || del.Seq != h+1 || del.ChangedBy != tidbro.OriginGroupware ||
		del.Owner != "alice" || !reflect.DeepEqual(del.Event, v1.Event) {
		t.Errorf("tombstone %+v", del)
	}
	_, err := s.Item(ctx, tn.ID, tidbro.KindEvent, "e1")
	wantCode(t, err, tidbro.ENOTFOUND, "deleted item")
	_, err = s.DeleteItem(ctx, tn.ID, tidbro.KindEvent, "e1", tidbro.Precondition{}, tidbro.OriginApp)
	wantCode(t, err, tidbro.ENOTFOUND, "second delete")
	_, err = s.DeleteItem(ctx, tn.ID, tidbro.KindEvent, "never", tidbro.Precondition{}, tidbro.OriginApp)
	wantCode(t, err, tidbro.ENOTFOUND, "delete of a missing item")
	if got := head(t, s, tn.ID); got != h+1 {
		t.Errorf("Head = %d after one delete and two failed ones, want %d", got, h+1)
	}
	cs := changes(t, s, tidbro.ChangeQuery{TenantID: tn.ID})
	if got := describe(cs); !slices.Equal(got, []string{fmt.Sprintf("e1@%d", v1.Seq), fmt.Sprintf("-e1@%d", del.Seq)}) {
		t.Errorf("feed = %v, want the create and the deletion", got)
	}
	if c := cs[1]; !reflect.DeepEqual(c.Item, del) || c.Version != 2 || c.ChangedBy != tidbro.OriginGroupware || !c.Latest() || cs[0].Latest() {
		t.Errorf("deletion entry %+v", c)
	}
	items, _ := must2(s.Items(ctx, tidbro.ItemQuery{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindEvent}))(t)
	if len(items) != 0 {
		t.Errorf("Items lists the tombstone: %v", appIDs(items))
	}

	// Writing the very same content again revives it as a new version.
	back, changed, err := s.PutItem(ctx, in, tidbro.Precondition{})
	noErr(t, err)
	if !changed || back.ID != v1.ID || back.Version != 3 || back.Deleted || back.Seq != h+2 {
		t.Errorf("revived: changed = %v, %+v", changed, back)
	}
	if got := must(s.Item(ctx, tn.ID, tidbro.KindEvent, "e1"))(t); !reflect.DeepEqual(got, back) {
		t.Errorf("read revived %+v, want %+v", got, back)
	}
}

// must2 is must for functions with two values.
func must2[A, B any](a A, b B, err error) func(t *testing.T) (A, B) {
	return func(t *testing.T) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

func testInvalidItems(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	other := newTenant(t, s, "other")
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	bad := event(tn.ID, alice.ID, "e1", start, time.Hour)
	bad.Event.End = start.Add(-time.Hour)
	_, _, err := s.PutItem(ctx, bad, tidbro.Precondition{})
	wantCode(t, err, tidbro.EINVALID, "event ending before it starts")

	noOwner := event(tn.ID, alice.ID+1000, "e1", start, time.Hour)
	_, _, err = s.PutItem(ctx, noOwner, tidbro.Precondition{})
	if err == nil {
		t.Error("PutItem with an unknown owner succeeded")
	}
	foreign := event(other.ID, alice.ID, "e1", start, time.Hour)
	_, _, err = s.PutItem(ctx, foreign, tidbro.Precondition{})
	if err == nil {
		t.Error("PutItem owned by another tenant's user succeeded")
	}
	if h := head(t, s, tn.ID) + head(t, s, other.ID); h != 0 {
		t.Errorf("refused writes moved the feeds to %d", h)
	}
	_, _, err = s.Items(ctx, tidbro.ItemQuery{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindEvent, Cursor: "garbage!"})
	wantCode(t, err, tidbro.EINVALID, "Items with a bad cursor")
}
