package graph

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

// Every RRULE Outlook can repeat by goes to its recurrence and back
// unchanged (in tidbro's canonical order, with the parts Outlook always
// has, such as BYDAY on weekly series).
func TestRecurrenceRoundTrip(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, berlin) // a Monday
	for _, rule := range []string{
		"FREQ=DAILY",
		"FREQ=DAILY;COUNT=5;INTERVAL=2",
		"FREQ=WEEKLY;COUNT=10;BYDAY=MO",
		"FREQ=WEEKLY;BYDAY=MO,WE,FR;INTERVAL=2",
		"FREQ=WEEKLY;BYDAY=TU;WKST=SU",
		"FREQ=MONTHLY;BYMONTHDAY=15",
		"FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2",
		"FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1;INTERVAL=3",
		"FREQ=YEARLY;BYMONTHDAY=2;BYMONTH=3",
		"FREQ=YEARLY;BYDAY=SU;BYMONTH=10;BYSETPOS=-1",
		"FREQ=WEEKLY;UNTIL=20260601T215959Z;BYDAY=MO",
	} {
		r, err := fromRRule(rule, start, berlin, "W. Europe Standard Time")
		if err != nil {
			t.Errorf("%s: %v", rule, err)
			continue
		}
		back, err := toRRule(r, berlin)
		if err != nil {
			t.Errorf("%s: back: %v", rule, err)
			continue
		}
		if want := tidbro.NormalizeRRule(rule); back != want {
			b, _ := json.Marshal(r)
			t.Errorf("%s → %s → %s, want %s", rule, b, back, want)
		}
	}
	// Forms Outlook spells its own way: an ordinal BYDAY, a weekly rule
	// without days (the start's), a monthly one without a day (the start's).
	for rule, want := range map[string]string{
		"FREQ=MONTHLY;BYDAY=2TU":             "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2",
		"FREQ=WEEKLY":                        "FREQ=WEEKLY;BYDAY=MO",
		"FREQ=MONTHLY":                       "FREQ=MONTHLY;BYMONTHDAY=2",
		"FREQ=WEEKLY;UNTIL=20260601T070000Z": "FREQ=WEEKLY;UNTIL=20260601T215959Z;BYDAY=MO",
	} {
		r, err := fromRRule(rule, start, berlin, "W. Europe Standard Time")
		if err != nil {
			t.Fatalf("%s: %v", rule, err)
		}
		if back, _ := toRRule(r, berlin); back != want {
			t.Errorf("%s → %s, want %s", rule, back, want)
		}
	}
	// What Outlook cannot repeat by is a clear error, not a wrong series.
	for _, rule := range []string{"FREQ=HOURLY", "FREQ=DAILY;BYDAY=MO", "FREQ=MONTHLY;BYMONTHDAY=1,15", "FREQ=YEARLY;BYWEEKNO=20", "FREQ=MONTHLY;BYDAY=5MO"} {
		if _, err := fromRRule(rule, start, berlin, "W. Europe Standard Time"); err == nil || !strings.Contains(err.Error(), "Outlook") {
			t.Errorf("%s: %v, want an error naming what Outlook cannot do", rule, err)
		}
	}
}

func TestHTMLBodies(t *testing.T) {
	for in, want := range map[string]string{
		"<html><head><style>p{}</style></head><body><p>Agenda:</p><p>1. Last&nbsp;week<br>2. This week</p></body></html>": "Agenda:\n1. Last week\n2. This week",
		"<div>Fish &amp; chips</div><div><br></div><div>later</div>":                                                      "Fish & chips\n\nlater",
	} {
		if got := text(&itemBody{ContentType: "html", Content: in}); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
	if got := text(&itemBody{ContentType: "text", Content: "a\r\nb "}); got != "a\nb" {
		t.Errorf("text body: %q", got)
	}
}

// Outlook's zones: Windows names become IANA ones; an all-day event is
// the dates it covers in its zone.
func TestEventZones(t *testing.T) {
	g := &event{Subject: "x", Start: &dateTimeTZ{DateTime: "2026-03-02T08:00:00.0000000", TimeZone: "UTC"},
		End: &dateTimeTZ{DateTime: "2026-03-02T09:00:00.0000000", TimeZone: "UTC"}, OriginalStartTimeZone: "W. Europe Standard Time",
		Sensitivity: "confidential", ShowAs: "oof", IsReminderOn: true, ReminderMinutes: 30}
	ev, err := toEvent(g)
	if err != nil {
		t.Fatal(err)
	}
	if ev.TimeZone != "Europe/Berlin" || !ev.Start.Equal(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)) || !ev.Private || ev.ShowAs != "oof" ||
		len(ev.Alarms) != 1 || ev.Alarms[0].Trigger != "-PT30M" {
		t.Errorf("event: %+v", ev)
	}
	allDay := &event{Subject: "Holiday", IsAllDay: true, OriginalStartTimeZone: "W. Europe Standard Time",
		Start: &dateTimeTZ{DateTime: "2026-12-23T23:00:00.0000000", TimeZone: "UTC"}, End: &dateTimeTZ{DateTime: "2026-12-26T23:00:00.0000000", TimeZone: "UTC"}}
	ev, err = toEvent(allDay)
	if err != nil {
		t.Fatal(err)
	}
	if !ev.AllDay || !ev.Start.Equal(time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)) || !ev.End.Equal(time.Date(2026, 12, 27, 0, 0, 0, 0, time.UTC)) || ev.TimeZone != "" {
		t.Errorf("all-day event: %+v", ev)
	}
	body, err := eventBody(&tidbro.Event{Summary: "x", Start: time.Date(2026, 7, 1, 7, 0, 0, 0, time.UTC), End: time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC),
		TimeZone: "Europe/Stockholm", Attendees: []tidbro.Attendee{{Email: "a@example.com"}}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if s := body["start"].(dateTimeTZ); s.DateTime != "2026-07-01T09:00:00" || s.TimeZone != "W. Europe Standard Time" {
		t.Errorf("start written as %+v", s)
	}
	if _, ok := body["attendees"]; ok {
		t.Error("attendees written: Outlook would invite them")
	}
}
