package ical

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func ptr[T any](v T) *T { return &v }

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// same fails with both values as JSON, which reads better than %#v.
func same(t *testing.T, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("got\n%s\nwant\n%s", g, w)
	}
}

func TestDecodeEventSamples(t *testing.T) {
	tests := []struct {
		file string
		want tidbro.Event
	}{
		{"rfc5545.ics", tidbro.Event{
			UID: "guid-1.example.com", Summary: "XYZ Project Review", Description: "Project XYZ Review Meeting",
			Location: "1CP Conference Room 4350",
			Start:    utc("1998-03-12T13:30:00Z"), End: utc("1998-03-12T14:30:00Z"), TimeZone: "America/New_York",
			RRule:      "FREQ=WEEKLY;COUNT=10;BYDAY=TH",
			ExDates:    []time.Time{utc("1998-03-19T13:30:00Z"), utc("1998-03-26T13:30:00Z")},
			Categories: []string{"MEETING", "PROJECT", "REVIEW"},
			Organizer:  &tidbro.Attendee{Email: "mrbig@example.com", Name: "Mr. Doe"},
			Attendees:  []tidbro.Attendee{{Email: "employee-A@example.com", Role: "required", Status: "accepted"}},
			Overrides: []tidbro.Event{
				{Summary: "XYZ Project Review (moved)", RecurrenceID: ptr(utc("1998-04-02T13:30:00Z")),
					Start: utc("1998-04-03T15:00:00Z"), End: utc("1998-04-03T16:30:00Z")},
				// 9 April 1998 is after the DST switch: EDT, -04:00.
				{RecurrenceID: ptr(utc("1998-04-09T12:30:00Z")), Cancelled: true, Status: "cancelled",
					Start: utc("1998-04-09T12:30:00Z"), End: utc("1998-04-09T13:30:00Z")},
			},
		}},
		{"outlook.ics", tidbro.Event{
			UID:     "040000008200E00074C5B7101A82E00800000000D0A3B2C1F06BDA01000000000000000010000000",
			Summary: "Zahnarzt", Description: "Zahnarzt, Kontrolle\n", Location: "Praxis Dr. Weiß",
			// Windows name mapped to IANA; the end's custom zone computed from its VTIMEZONE rules (CEST).
			Start: utc("2024-07-12T06:30:00Z"), End: utc("2024-07-12T07:30:00Z"), TimeZone: "Europe/Berlin",
			Private: true, ShowAs: "oof",
			Alarms: []tidbro.Alarm{{Action: "display", Trigger: "-PT15M", Description: "Reminder"}},
		}},
		{"outlook-series.ics", tidbro.Event{
			UID:     "040000008200E00074C5B7101A82E00800000000A0B1C2D3E4F5DA01000000000000000010000000",
			Summary: "Teamrunde", Description: "Jour fixe\n", Location: "Besprechungsraum 2",
			// A quoted Windows TZID, mapped to IANA; CET in January.
			Start: utc("2024-01-08T08:30:00Z"), End: utc("2024-01-08T09:00:00Z"), TimeZone: "Europe/Berlin",
			RRule: "FREQ=WEEKLY;COUNT=12;BYDAY=MO", ExDates: []time.Time{utc("2024-01-22T08:30:00Z")}, ShowAs: "busy",
			Alarms: []tidbro.Alarm{{Action: "display", Trigger: "-PT15M", Description: "Reminder"}},
			Overrides: []tidbro.Event{{Summary: "Teamrunde (verschoben)", Description: "Jour fixe, diesmal später\n",
				Location: "Besprechungsraum 2", ShowAs: "busy", RecurrenceID: ptr(utc("2024-01-29T08:30:00Z")),
				Start: utc("2024-01-29T10:30:00Z"), End: utc("2024-01-29T11:00:00Z")}},
		}},
		{"google.ics", tidbro.Event{
			UID: "7kukuqrfedlm2f9t0vr42q2l4d@google.com", Summary: "Standup",
			Description: "Join: https://meet.google.com/abc-defg-hij",
			Start:       utc("2024-01-08T08:00:00Z"), End: utc("2024-01-08T08:30:00Z"),
			RRule:  "FREQ=DAILY;UNTIL=20240131T080000Z;BYDAY=MO,TU,WE,TH,FR",
			Status: "confirmed",
			Alarms: []tidbro.Alarm{
				{Action: "display", Trigger: "-P0DT0H10M0S", Description: "This is an event reminder"},
				{Action: "email", At: ptr(utc("2024-01-07T18:00:00Z")), Description: "This is an event reminder"},
			},
		}},
		{"apple.ics", tidbro.Event{
			UID: "5C9A2F0E-1B7D-4E4A-9A53-2D1F8E6B7C10", Summary: "Ski trip", Location: "Åre\nSweden",
			Start: utc("2024-02-15T00:00:00Z"), End: utc("2024-02-18T00:00:00Z"), AllDay: true,
			ShowAs: "free", URL: "https://example.com/trip",
			Alarms: []tidbro.Alarm{{Action: "display", Trigger: "-PT15H", Description: "Reminder"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev, err := DecodeEvent(read(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			same(t, ev, &tt.want)
			if err := ev.Validate(); err != nil {
				t.Errorf("decoded event does not validate: %v", err)
			}
		})
	}
}

func TestEventRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ev   tidbro.Event
	}{
		{"utc", tidbro.Event{UID: "a", Summary: "Lunch, with \"friends\"; ok", Start: utc("2024-05-01T11:00:00Z"), End: utc("2024-05-01T12:00:00Z")}},
		{"zoned recurring", tidbro.Event{
			UID: "b", Summary: "Weekly", Description: "line1\nline2", Location: "Room 1",
			Start: utc("2024-03-05T08:00:00Z"), End: utc("2024-03-05T09:00:00Z"), TimeZone: "Europe/Stockholm",
			RRule:   "FREQ=WEEKLY;BYDAY=TU",
			RDates:  []time.Time{utc("2024-03-07T08:00:00Z")},
			ExDates: []time.Time{utc("2024-03-12T08:00:00Z"), utc("2024-04-02T07:00:00Z")},
			Status:  "tentative", ShowAs: "workingElsewhere", Private: true,
			Categories: []string{"Work", "Team, A"},
			Alarms: []tidbro.Alarm{
				{Action: "display", Trigger: "-PT15M", Description: "Soon"},
				{Action: "email", At: ptr(utc("2024-03-04T20:00:00Z")), Description: "Tomorrow"},
			},
			Organizer: &tidbro.Attendee{Email: "boss@example.com", Name: "Boss, The", Role: "chair", Status: "accepted"},
			Attendees: []tidbro.Attendee{{Email: "me@example.com", Role: "optional", Status: "tentative"}, {Email: "you@example.com"}},
			URL:       "https://example.com/e?x=1",
			Overrides: []tidbro.Event{
				{Summary: "Moved", RecurrenceID: ptr(utc("2024-03-19T08:00:00Z")), Start: utc("2024-03-19T10:00:00Z"), End: utc("2024-03-19T11:00:00Z")},
				{RecurrenceID: ptr(utc("2024-03-26T08:00:00Z")), Cancelled: true, Status: "cancelled", Start: utc("2024-03-26T08:00:00Z"), End: utc("2024-03-26T09:00:00Z")},
			},
		}},
		{"all day", tidbro.Event{UID: "c", Summary: "Holiday", AllDay: true, Start: utc("2024-12-24T00:00:00Z"), End: utc("2024-12-27T00:00:00Z"),
			RRule: "FREQ=YEARLY", ExDates: []time.Time{utc("2025-12-24T00:00:00Z")}, ShowAs: "free"}},
		{"fixed zone", tidbro.Event{UID: "d", Start: utc("2024-05-01T11:00:00Z"), End: utc("2024-05-01T12:00:00Z"), TimeZone: "Asia/Kolkata"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := EncodeEvent(&tt.ev, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeEvent(b)
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			same(t, got, &tt.ev)
			a := tidbro.Item{Kind: tidbro.KindEvent, Event: got}
			w := tidbro.Item{Kind: tidbro.KindEvent, Event: &tt.ev}
			if a.ContentHash() != w.ContentHash() {
				t.Error("content hashes differ")
			}
		})
	}
}

// Unknown properties and components survive an edit through EncodeEvent.
func TestEncodeEventKeepsUnknown(t *testing.T) {
	for _, file := range []string{"apple.ics", "outlook.ics", "rfc5545.ics"} {
		t.Run(file, func(t *testing.T) {
			raw := read(t, file)
			ev, err := DecodeEvent(raw)
			if err != nil {
				t.Fatal(err)
			}
			ev.Summary = "Edited"
			b, err := EncodeEvent(ev, raw)
			if err != nil {
				t.Fatal(err)
			}
			out := strings.ReplaceAll(string(b), "\r\n ", "")
			for _, keep := range []string{"X-FOO;X-BAR=baz:keep me", "X-APPLE-STRUCTURED-LOCATION", "X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC",
				"X-MICROSOFT-CDO-IMPORTANCE:1", "SUMMARY;LANGUAGE=de-de:Edited", "X-MS-OLK-FORCEINSPECTOROPEN:TRUE", "CREATED:", "SEQUENCE:0"} {
				if strings.Contains(string(raw), strings.SplitN(keep, ":", 2)[0]) && !strings.Contains(out, keep) {
					t.Errorf("%q lost:\n%s", keep, out)
				}
			}
			if !strings.Contains(out, "PRODID:-//tidbro//tidbro//EN") {
				t.Error("PRODID not set")
			}
			got, err := DecodeEvent(b)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			same(t, got, ev)
		})
	}
}

func TestVTimezoneOffsets(t *testing.T) {
	cal, err := parseCalendar(read(t, "outlook.ics"))
	if err != nil {
		t.Fatal(err)
	}
	z := newZones(cal)
	for _, tt := range []struct{ local, want string }{
		{"20240115T120000", "2024-01-15T11:00:00Z"},
		{"20240712T093000", "2024-07-12T07:30:00Z"},
		{"20241027T040000", "2024-10-27T03:00:00Z"}, // after the switch back
		{"20240331T040000", "2024-03-31T02:00:00Z"}, // after the switch forward
	} {
		p := cal.Children[len(cal.Children)-1].Props.Get("DTEND")
		got, _, zone, err := z.parseTime(tt.local, p.Params)
		if err != nil || !got.Equal(utc(tt.want)) || zone != "" {
			t.Errorf("%s: got %v %q %v, want %s", tt.local, got, zone, err, tt.want)
		}
	}
}

// The generated VTIMEZONE must agree with Go's zone data for that year.
func TestGeneratedVTimezone(t *testing.T) {
	for _, name := range []string{"Europe/Stockholm", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/St_Johns"} {
		loc, _ := time.LoadLocation(name)
		b := []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" + vtimezone(name, loc, 2024) + "END:VCALENDAR\r\n")
		cal, err := parseCalendar(b)
		if err != nil {
			t.Fatal(err)
		}
		z := newZones(cal)
		for m := 1; m <= 12; m++ {
			local := time.Date(2024, time.Month(m), 15, 12, 0, 0, 0, time.UTC)
			off, err := vtimezoneOffset(z.vtz[name], local)
			_, want := time.Date(2024, time.Month(m), 15, 12, 0, 0, 0, loc).Zone()
			if err != nil || off != time.Duration(want)*time.Second {
				t.Errorf("%s month %d: offset %v %v, want %ds\n%s", name, m, off, err, want, b)
			}
		}
	}
}

func TestFloatingTimeIsUTC(t *testing.T) {
	ev, err := DecodeEvent([]byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:f\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240101T100000\r\nDURATION:PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Start.Equal(utc("2024-01-01T10:00:00Z")) || !ev.End.Equal(utc("2024-01-01T11:00:00Z")) || ev.TimeZone != "" {
		t.Errorf("got %v..%v %q", ev.Start, ev.End, ev.TimeZone)
	}
}

func TestDecodeEventErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "cannot parse"},
		{"garbage", "hello", "cannot parse"},
		{"no event", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n", "another kind"},
		{"only a zone", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTIMEZONE\r\nTZID:X\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n", "no VEVENT"},
		{"no dtstart", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:u\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "DTSTART: missing"},
		{"bad dtstart", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTART:2024-01-01\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "DTSTART"},
		{"unknown zone", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTART;TZID=Mars/Base:20240101T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "unknown time zone"},
		{"bad duration", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTART:20240101T100000Z\r\nDURATION:1h\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "DURATION"},
		{"two masters", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTART:20240101T100000Z\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:v\r\nDTSTART:20240101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "more than one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeEvent([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, file := range []string{"rfc5545.ics", "outlook.ics", "google.ics", "apple.ics", "task.ics"} {
		b, err := os.ReadFile("testdata/" + file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;TZID=X:1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeEvent(b)
		if err != nil || ev.UID == "" {
			return
		}
		// Whatever decodes with a UID must encode and decode again.
		out, err := EncodeEvent(ev, nil)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		if _, err := DecodeEvent(out); err != nil {
			t.Fatalf("decode of encoded: %v\n%s", err, out)
		}
		if _, err := EncodeEvent(ev, b); err != nil {
			t.Fatalf("encode with raw: %v", err)
		}
	})
}

func TestEncodeEventShape(t *testing.T) {
	ev := &tidbro.Event{Summary: "No UID yet", Start: utc("2024-07-01T08:00:00Z"), End: utc("2024-07-01T09:00:00Z"), TimeZone: "Europe/Stockholm",
		RRule: "FREQ=DAILY;COUNT=3", Overrides: []tidbro.Event{{RecurrenceID: ptr(utc("2024-07-02T08:00:00Z")), Cancelled: true,
			Start: utc("2024-07-02T08:00:00Z"), End: utc("2024-07-02T09:00:00Z")}}}
	b, err := EncodeEvent(ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	for _, want := range []string{
		"PRODID:-//tidbro//tidbro//EN", "BEGIN:VTIMEZONE\r\nTZID:Europe/Stockholm", "TZOFFSETTO:+0200", "TZOFFSETTO:+0100",
		"DTSTART;TZID=Europe/Stockholm:20240701T100000", "RRULE:FREQ=DAILY;COUNT=3",
		"RECURRENCE-ID;TZID=Europe/Stockholm:20240702T100000", "STATUS:CANCELLED", "UID:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	ev.ShowAs = "oof"
	if b, err = EncodeEvent(ev, nil); err != nil || strings.Contains(string(b), "VALUE=TEXT") {
		t.Errorf("spurious VALUE=TEXT (%v):\n%s", err, b)
	}
	got, err := DecodeEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.UID == "" || len(got.Overrides) != 1 || !got.Overrides[0].Cancelled {
		t.Errorf("got %+v", got)
	}
}

func TestICalDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Hour: "PT1H", 90 * time.Minute: "PT1H30M", 48 * time.Hour: "P2D",
		25 * time.Hour: "PT25H", 30 * time.Second: "PT30S", 0: "PT0S", time.Hour + 5*time.Second: "PT1H5S"} {
		got := icalDuration(d)
		if got != want {
			t.Errorf("%v: %s, want %s", d, got, want)
		}
		if back, err := tidbro.ParseDuration(got); err != nil || back != d {
			t.Errorf("%s reads back as %v %v", got, back, err)
		}
	}
}

// An event without a UID gets one of its own each time it is written: two
// remote creates of UID-less items must not share one.
func TestMadeUpUIDsDiffer(t *testing.T) {
	ev := &tidbro.Event{Summary: "x", Start: utc("2026-03-02T09:00:00Z"), End: utc("2026-03-02T10:00:00Z")}
	seen := map[string]bool{}
	for range 100 {
		b, err := EncodeEvent(ev, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeEvent(b)
		if err != nil {
			t.Fatal(err)
		}
		if got.UID == "" || seen[got.UID] {
			t.Fatalf("UID %q is empty or made up twice", got.UID)
		}
		seen[got.UID] = true
	}
}
