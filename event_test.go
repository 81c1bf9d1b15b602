package tidbro

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func mustEvent(t *testing.T, s string) *Event {
	t.Helper()
	var e Event
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		t.Fatalf("unmarshal %s: %v", s, err)
	}
	return &e
}

func TestEventJSONRoundTrip(t *testing.T) {
	in := `{"summary":"Standup","start":"2026-03-27T09:00:00+01:00","end":"2026-03-27T09:15:00+01:00","timeZone":"Europe/Stockholm",` +
		`"rrule":"FREQ=DAILY;COUNT=5","exdates":["2026-03-28T09:00:00+01:00"],` +
		`"overrides":[{"recurrenceId":"2026-03-29T09:00:00+02:00","start":"2026-03-29T10:00:00+02:00","summary":"Late standup"}]}`
	e := mustEvent(t, in)
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := e.Start; !got.Equal(time.Date(2026, 3, 27, 8, 0, 0, 0, time.UTC)) || got.Location() != time.UTC {
		t.Fatalf("start not normalised to UTC: %v", got)
	}
	o := e.Overrides[0]
	if o.TimeZone != "Europe/Stockholm" || !o.End.Equal(o.Start.Add(15*time.Minute)) {
		t.Fatalf("override defaults from the series: zone %q, end %v", o.TimeZone, o.End)
	}
	out, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	// Written back in the event's zone: after the DST change on 29 March the offset is +02:00.
	for _, want := range []string{`"start":"2026-03-27T09:00:00+01:00"`, `"recurrenceId":"2026-03-29T09:00:00+02:00"`, `"exdates":["2026-03-28T09:00:00+01:00"]`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("%s lacks %s", out, want)
		}
	}
	again := mustEvent(t, string(out))
	a, b := Item{Kind: KindEvent, Event: e}, Item{Kind: KindEvent, Event: again}
	if a.ContentHash() != b.ContentHash() {
		t.Fatalf("round trip changed the content:\n%s\n%s", out, mustJSON(again))
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestAllDayEvent(t *testing.T) {
	e := mustEvent(t, `{"summary":"Holiday","start":"2026-06-19"}`)
	if !e.AllDay || !e.End.Equal(e.Start.AddDate(0, 0, 1)) {
		t.Fatalf("a date start makes an all-day event of one day: allDay %v end %v", e.AllDay, e.End)
	}
	// A date-time given for an all-day event keeps its calendar date.
	e = mustEvent(t, `{"allDay":true,"start":"2026-06-19T00:00:00+02:00","end":"2026-06-21T00:00:00+02:00"}`)
	if got := mustJSON(e); !strings.Contains(got, `"start":"2026-06-19"`) || !strings.Contains(got, `"end":"2026-06-21"`) {
		t.Fatalf("all-day dates: %s", got)
	}
}

func TestEventValidation(t *testing.T) {
	for field, body := range map[string]string{
		"start":                     `{"summary":"x"}`,
		"end":                       `{"start":"2026-01-02T10:00:00Z","end":"2026-01-02T09:00:00Z"}`,
		"timeZone":                  `{"start":"2026-01-02T10:00:00Z","timeZone":"Europe/Atlantis"}`,
		"rrule":                     `{"start":"2026-01-02T10:00:00Z","rrule":"FREQ=DAILY;DTSTART=20260101T000000Z"}`,
		"status":                    `{"start":"2026-01-02T10:00:00Z","status":"maybe"}`,
		"overrides[0].recurrenceId": `{"start":"2026-01-02T10:00:00Z","rrule":"FREQ=DAILY","overrides":[{"start":"2026-01-03T10:00:00Z"}]}`,
		"attendees[0].email":        `{"start":"2026-01-02T10:00:00Z","attendees":[{"email":"nope"}]}`,
		"url":                       `{"start":"2026-01-02T10:00:00Z","url":"not a url"}`,
	} {
		e := mustEvent(t, body)
		err := e.Validate()
		if ErrorCode(err) != EINVALID || ErrorField(err) != field {
			t.Errorf("%s: got %v, want an invalid %s", body, err, field)
		}
	}
}

func TestOccurs(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	weekly := mustEvent(t, `{"start":"2025-01-06T09:00:00+01:00","end":"2025-01-06T10:00:00+01:00","timeZone":"Europe/Berlin","rrule":"FREQ=WEEKLY;BYDAY=MO",`+
		`"exdates":["2026-01-12T09:00:00+01:00"],"overrides":[{"recurrenceId":"2026-01-19T09:00:00+01:00","start":"2026-01-21T09:00:00+01:00"}]}`)
	cases := []struct {
		from, to time.Time
		want     bool
	}{
		{day(5), day(6), true},    // Monday 5 January 2026
		{day(6), day(7), false},   // Tuesday
		{day(12), day(13), false}, // excluded
		{day(19), day(20), false}, // moved away...
		{day(21), day(22), true},  // ...to Wednesday
	}
	for _, c := range cases {
		if got := weekly.Occurs(c.from, c.to); got != c.want {
			t.Errorf("weekly.Occurs(%s) = %v, want %v", c.from.Format("Mon 2 Jan"), got, c.want)
		}
	}
	counted := mustEvent(t, `{"start":"2025-01-06T09:00:00Z","end":"2025-01-06T10:00:00Z","rrule":"FREQ=DAILY;COUNT=3"}`)
	if counted.Occurs(day(1), day(31)) {
		t.Error("a series that ended in 2025 occurs in 2026")
	}
	if _, to, _ := counted.Span(); !to.Equal(time.Date(2025, 1, 8, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("span end %v", to)
	}
	if _, to, _ := weekly.Span(); !to.Equal(Forever) {
		t.Errorf("unbounded span end %v", to)
	}
}

func TestParseDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{"-PT15M": -15 * time.Minute, "P1D": 24 * time.Hour, "P2W": 14 * 24 * time.Hour, "PT1H30M": 90 * time.Minute, "+PT10S": 10 * time.Second} {
		if got, err := ParseDuration(s); err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "P", "PT", "15M", "-P1H", "P1W2D"} {
		if _, err := ParseDuration(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestNormalizeRRule(t *testing.T) {
	for in, want := range map[string]string{
		"FREQ=WEEKLY;COUNT=10;BYDAY=MO":       "FREQ=WEEKLY;COUNT=10;BYDAY=MO",
		"RRULE:byday=MO;freq=WEEKLY;COUNT=10": "FREQ=WEEKLY;COUNT=10;BYDAY=MO",
		"WKST=SU;FREQ=DAILY;X-NAME=1":         "FREQ=DAILY;WKST=SU;X-NAME=1",
		"":                                    "",
	} {
		if got := NormalizeRRule(in); got != want {
			t.Errorf("NormalizeRRule(%q) = %q, want %q", in, got, want)
		}
	}
}
