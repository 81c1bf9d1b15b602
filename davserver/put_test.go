package davserver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

// An object that reads but is not a valid item is refused with
// valid-calendar-data, before a name too long to keep, which is a bad
// request.
func TestPutInvalid(t *testing.T) {
	e := newEnv(t)
	coll := "/dav/calendars/alice/calendar/"
	start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
	backwards := strings.Replace(vevent("Backwards", "b1", start), "DTEND:"+start.Add(time.Hour).UTC().Format("20060102T150405Z"),
		"DTEND:"+start.Add(-time.Hour).UTC().Format("20060102T150405Z"), 1)
	long := strings.Repeat("n", 300) + ".ics"
	for _, c := range []struct {
		name, body string
		status     int
		says       string
	}{
		{"b1.ics", backwards, http.StatusForbidden, "The item is not valid: end"},
		{long, backwards, http.StatusForbidden, "The item is not valid: end"},
		{long, vevent("Long", "l1", start), http.StatusBadRequest, "name"},
	} {
		_, b := e.must(c.status, "alice", "PUT", coll+c.name, c.body, "If-None-Match", "*")
		if !strings.Contains(b, c.says) || c.status == http.StatusForbidden && !strings.Contains(b, "valid-calendar-data") {
			t.Errorf("PUT %.20s: %s", c.name, b)
		}
	}
	// Nothing was written.
	if _, b := e.must(http.StatusMultiStatus, "alice", "PROPFIND", coll, prop("d:getetag"), "Depth", "1"); strings.Count(b, "<d:response>") != 1 {
		t.Errorf("the calendar after refused PUTs:\n%s", b)
	}
}

// A create (If-None-Match: *) answers by what the resource's name has:
// nothing or a tombstone takes the name as app id, another user's item
// leaves it to that item, the user's own item is 412 before any refusal
// or reading of the object. A create that does not happen takes no feed
// position.
func TestPutCreate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
	coll := "/dav/calendars/alice/calendar/"
	e.putItem("alice", tidbro.KindEvent, "mine", appointment("Mine", start))
	e.putItem("bob", tidbro.KindEvent, "bobs", appointment("Bob's", start))
	for _, id := range []string{"gone", "gone-bobs"} {
		owner := map[string]string{"gone": "alice", "gone-bobs": "bob"}[id]
		e.putItem(owner, tidbro.KindEvent, id, appointment("Gone", start))
		if _, err := e.store.DeleteItem(ctx, e.tenant.ID, tidbro.KindEvent, id, tidbro.Precondition{}, tidbro.OriginApp); err != nil {
			t.Fatal(err)
		}
	}
	// Alice names her copy of Bob's meeting as he has it; then his goes.
	e.must(http.StatusCreated, "alice", "PUT", coll+"shared.ics", vevent("Shared", "shared", start), "If-None-Match", "*")
	e.putItem("bob", tidbro.KindEvent, "shared-bobs", appointment("Bob's", start))
	e.must(http.StatusCreated, "alice", "PUT", coll+"shared-bobs.ics", vevent("Alice's", "shared-bobs", start), "If-None-Match", "*")
	if _, err := e.store.DeleteItem(ctx, e.tenant.ID, tidbro.KindEvent, "shared-bobs", tidbro.Precondition{}, tidbro.OriginApp); err != nil {
		t.Fatal(err)
	}
	head := func() int64 {
		h, err := e.store.Head(ctx, e.tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	const bad = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nnot iCalendar\r\n"
	for _, c := range []struct {
		name, body string
		status     int
		appID      string // the item the create made, "" for one of its own
		says       string
	}{
		{"new.ics", vevent("New", "new", start), http.StatusCreated, "new", ""},
		{"gone.ics", vevent("Back", "gone", start), http.StatusCreated, "gone", ""},
		{"gone-bobs.ics", vevent("Alice's now", "gone-bobs", start), http.StatusCreated, "gone-bobs", ""},
		{"bobs.ics", vevent("Alice's copy", "bobs", start), http.StatusCreated, "", ""},
		{"mine.ics", vevent("Again", "mine", start), http.StatusPreconditionFailed, "", "exists"},
		{"mine.ics", bad, http.StatusPreconditionFailed, "", "exists"},
		{"shared-bobs.ics", vevent("Again", "shared-bobs", start), http.StatusPreconditionFailed, "", "exists"},
		{"bad.ics", bad, http.StatusForbidden, "", "valid-calendar-data"},
		{"~job~j.ics", vevent("Job", "j", start), http.StatusForbidden, "", "Jobs are managed"},
	} {
		h0 := head()
		res, b := e.must(c.status, "alice", "PUT", coll+c.name, c.body, "If-None-Match", "*")
		if !strings.Contains(b, c.says) {
			t.Errorf("PUT %s: %s", c.name, b)
		}
		want := h0
		if c.status == http.StatusCreated {
			want++
		}
		if h := head(); h != want {
			t.Errorf("PUT %s: the feed went from %d to %d, want %d", c.name, h0, h, want)
		}
		if c.status != http.StatusCreated {
			continue
		}
		if _, b := e.must(http.StatusOK, "alice", "GET", coll+c.name, "", "If-Match", res.Header.Get("ETag")); b != c.body {
			t.Errorf("GET %s:\n%s", c.name, b)
		}
		if c.appID == "" {
			continue
		}
		if it, err := e.store.Item(ctx, e.tenant.ID, tidbro.KindEvent, c.appID); err != nil || it.OwnerID != e.users["alice"].ID {
			t.Errorf("PUT %s: item %q is %+v, %v", c.name, c.appID, it, err)
		}
	}
	if it, err := e.store.Item(ctx, e.tenant.ID, tidbro.KindEvent, "bobs"); err != nil || it.OwnerID != e.users["bob"].ID || it.Event.Summary != "Bob's" {
		t.Errorf("Bob's item after Alice's create under its name: %+v, %v", it, err)
	}
	if it, err := e.store.Item(ctx, e.tenant.ID, tidbro.KindEvent, "mine"); err != nil || it.Event.Summary != "Mine" {
		t.Errorf("Alice's item after creates under its name: %+v, %v", it, err)
	}

	// Refused creates: the user's own item still answers 412.
	if err := e.store.PutSetting(ctx, e.tenant.ID, tidbro.DAVPolicyKey, []byte(`{"direction":"app-to-groupware"}`)); err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusPreconditionFailed, "alice", "PUT", coll+"mine.ics", vevent("Again", "mine", start), "If-None-Match", "*")
	e.must(http.StatusForbidden, "alice", "PUT", coll+"other.ics", vevent("Other", "other", start), "If-None-Match", "*")
	if err := e.store.PutSetting(ctx, e.tenant.ID, tidbro.DAVPolicyKey, []byte(`{"contactCreates":"refuse"}`)); err != nil {
		t.Fatal(err)
	}
	e.putItem("alice", tidbro.KindContact, "c1", &tidbro.Item{Contact: &tidbro.Contact{DisplayName: "Cay"}})
	card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c1\r\nFN:Cay\r\nN:;Cay;;;\r\nEND:VCARD\r\n"
	e.must(http.StatusPreconditionFailed, "alice", "PUT", "/dav/addressbooks/alice/contacts/c1.vcf", card, "If-None-Match", "*")
	e.must(http.StatusForbidden, "alice", "PUT", "/dav/addressbooks/alice/contacts/c2.vcf", card, "If-None-Match", "*")
}
