package davserver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
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
