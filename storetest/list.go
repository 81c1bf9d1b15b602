package storetest

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

// listAll pages through Items, checking that pages respect the limit and
// that only the last page has no cursor.
func listAll(t *testing.T, s tidbro.Store, q tidbro.ItemQuery) []*tidbro.Item {
	t.Helper()
	var all []*tidbro.Item
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("Items(%+v) does not end", q)
		}
		items, next := must2(s.Items(t.Context(), q))(t)
		if q.Limit > 0 && len(items) > q.Limit {
			t.Fatalf("page of %d items, limit %d", len(items), q.Limit)
		}
		all = append(all, items...)
		if next == "" {
			return all
		}
		if next == q.Cursor {
			t.Fatalf("Items returned its own cursor %q", next)
		}
		q.Cursor = next
	}
}

func weekly(tenantID, ownerID int64, appID string, start time.Time, rrule string) *tidbro.Item {
	it := event(tenantID, ownerID, appID, start, time.Hour)
	it.Event.RRule = rrule
	return it
}

func testItemsWindow(t *testing.T, s tidbro.Store) {
	tn, alice, bob := setup(t, s)
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	// The window is Monday 2 March 2026.
	from, to := day(2, 0), day(3, 0)
	longAgo := time.Date(2020, 1, 6, 9, 0, 0, 0, time.UTC) // a Monday

	movedIn := weekly(tn.ID, alice.ID, "moved-in", time.Date(2026, 2, 4, 9, 0, 0, 0, time.UTC), "FREQ=WEEKLY") // Wednesdays
	rid := day(4, 9)
	movedIn.Event.Overrides = []tidbro.Event{{RecurrenceID: &rid, Start: day(2, 15), End: day(2, 16)}}
	exdated := weekly(tn.ID, alice.ID, "exdated", time.Date(2026, 2, 23, 9, 0, 0, 0, time.UTC), "FREQ=WEEKLY")
	exdated.Event.ExDates = []time.Time{day(2, 9)}
	allDay := event(tn.ID, alice.ID, "all-day", day(2, 0), 24*time.Hour)
	allDay.Event.AllDay = true

	for _, it := range []*tidbro.Item{
		weekly(tn.ID, alice.ID, "weekly-since-2020", longAgo, "FREQ=WEEKLY"),   // listed
		weekly(tn.ID, alice.ID, "ended-count", longAgo, "FREQ=WEEKLY;COUNT=5"), // over in 2020
		weekly(tn.ID, alice.ID, "ended-until", longAgo, "FREQ=WEEKLY;UNTIL=20260223T000000Z"),
		weekly(tn.ID, alice.ID, "tuesdays", time.Date(2025, 1, 7, 9, 0, 0, 0, time.UTC), "FREQ=WEEKLY"),
		exdated, // its Monday 2 March is excluded
		movedIn, // a Wednesday moved onto the Monday: listed
		allDay,  // listed
		event(tn.ID, alice.ID, "single-in", day(2, 12), time.Hour),     // listed
		event(tn.ID, alice.ID, "single-before", day(1, 10), time.Hour), //
		event(tn.ID, alice.ID, "ends-at-from", day(1, 23), time.Hour),  // [23:00, 00:00) misses the window
		event(tn.ID, alice.ID, "instant-at-from", day(2, 0), 0),        // listed: zero length at the start
		event(tn.ID, alice.ID, "starts-at-to", day(3, 0), time.Hour),   //
		event(tn.ID, bob.ID, "bobs", day(2, 12), time.Hour),            // another owner
		contact(tn.ID, alice.ID, "contact"),                            // another kind
	} {
		put(t, s, it)
	}
	job := event(tn.ID, alice.ID, "job-in", day(2, 8), time.Hour)
	job.Kind = tidbro.KindJob
	put(t, s, job)

	q := tidbro.ItemQuery{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindEvent, From: from, To: to}
	want := []string{"weekly-since-2020", "moved-in", "all-day", "instant-at-from", "single-in"}
	if got := appIDs(listAll(t, s, q)); !slices.Equal(got, want) {
		t.Errorf("events in the window = %v, want %v", got, want)
	}
	q.Limit = 1
	if got := appIDs(listAll(t, s, q)); !slices.Equal(got, want) {
		t.Errorf("events in the window by ones = %v, want %v", got, want)
	}
	q.Limit = 2
	if got := appIDs(listAll(t, s, q)); !slices.Equal(got, want) {
		t.Errorf("events in the window by twos = %v, want %v", got, want)
	}

	q = tidbro.ItemQuery{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindJob, From: from, To: to}
	if got := appIDs(listAll(t, s, q)); !slices.Equal(got, []string{"job-in"}) {
		t.Errorf("jobs in the window = %v", got)
	}
	q = tidbro.ItemQuery{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindContact, From: from, To: to}
	if got := appIDs(listAll(t, s, q)); len(got) != 0 {
		t.Errorf("contacts in a window = %v, want none: they have no time", got)
	}
	// Without a window: every live event of alice's, by span start.
	all := listAll(t, s, tidbro.ItemQuery{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindEvent})
	if len(all) != 12 {
		t.Errorf("alice's events = %v, want 12", appIDs(all))
	}

	ctx := t.Context()
	_, _, err := s.Items(ctx, tidbro.ItemQuery{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindEvent, From: from})
	wantCode(t, err, tidbro.EINVALID, "window without an end")
	_, _, err = s.Items(ctx, tidbro.ItemQuery{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindEvent, From: to, To: from})
	wantCode(t, err, tidbro.EINVALID, "window ending before it starts")
}

func testTasksWindow(t *testing.T, s tidbro.Store) {
	tn, alice, _ := setup(t, s)
	day := func(d int) *time.Time { v := time.Date(2026, 3, d, 9, 0, 0, 0, time.UTC); return &v }
	task := func(appID string, start, due *time.Time) *tidbro.Item {
		return &tidbro.Item{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindTask, AppID: appID,
			ChangedBy: tidbro.OriginApp, Task: &tidbro.Task{Summary: appID, Start: start, Due: due}}
	}
	for _, it := range []*tidbro.Item{
		task("undated", nil, nil),
		task("due-in", nil, day(11)),
		task("spanning", day(1), day(20)),
		task("done-before", day(1), day(5)),
		task("starts-after", day(16), nil),
	} {
		put(t, s, it)
	}
	q := tidbro.ItemQuery{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindTask,
		From: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)}
	if got := appIDs(listAll(t, s, q)); !slices.Equal(got, []string{"spanning", "due-in"}) {
		t.Errorf("tasks in the window = %v, want [spanning due-in]", got)
	}
	q.From, q.To = time.Time{}, time.Time{}
	if got := appIDs(listAll(t, s, q)); len(got) != 5 || got[0] != "undated" {
		t.Errorf("all tasks = %v, want 5, the undated first", got)
	}
}

// testItemsPaging checks that small pages list every item exactly once, in
// (span start, ID) order, whatever the ties.
func testItemsPaging(t *testing.T, s tidbro.Store) {
	tn, alice, bob := setup(t, s)
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	starts := []int{3, 1, 1, 0, 2, 1, 5, 0} // hours after base, with ties
	for i, h := range starts {
		put(t, s, event(tn.ID, alice.ID, "e"+string(rune('a'+i)), base.Add(time.Duration(h)*time.Hour), time.Hour))
	}
	put(t, s, event(tn.ID, bob.ID, "bobs", base, time.Hour))
	_, err := s.DeleteItem(t.Context(), tn.ID, tidbro.KindEvent, "eg", tidbro.Precondition{}, tidbro.OriginApp)
	noErr(t, err)
	for i := range 5 {
		put(t, s, contact(tn.ID, alice.ID, "c"+string(rune('a'+i))))
	}

	for _, limit := range []int{1, 2, 3, 0} {
		events := listAll(t, s, tidbro.ItemQuery{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindEvent, Limit: limit})
		if len(events) != len(starts)-1 {
			t.Errorf("limit %d: listed %v, want %d events", limit, appIDs(events), len(starts)-1)
		}
		seen := map[int64]bool{}
		for _, it := range events {
			if seen[it.ID] || it.AppID == "eg" || it.Owner != "alice" {
				t.Errorf("limit %d: listed %s (ID %d) wrongly or twice", limit, it.AppID, it.ID)
			}
			seen[it.ID] = true
		}
		if !slices.IsSortedFunc(events, func(a, b *tidbro.Item) int {
			return cmp.Or(a.Event.Start.Compare(b.Event.Start), cmp.Compare(a.ID, b.ID))
		}) {
			t.Errorf("limit %d: not in (start, ID) order: %v", limit, appIDs(events))
		}
		contacts := listAll(t, s, tidbro.ItemQuery{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindContact, Limit: limit})
		if got := appIDs(contacts); !slices.Equal(got, []string{"ca", "cb", "cc", "cd", "ce"}) {
			t.Errorf("limit %d: contacts %v", limit, got)
		}
	}
	items, next := must2(s.Items(t.Context(), tidbro.ItemQuery{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindContact, Limit: 5}))(t)
	if len(items) != 5 || next != "" {
		t.Errorf("an exactly full last page: %d items, next %q; want 5, none", len(items), next)
	}
}
