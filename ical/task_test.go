package ical

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

// An Apple Reminders item: a due date without time, completed, with an
// alarm tidbro does not model (kept on write).
func TestDecodeAppleReminder(t *testing.T) {
	raw := read(t, "apple-reminder.ics")
	got, err := DecodeTask(raw)
	if err != nil {
		t.Fatal(err)
	}
	same(t, got, &tidbro.Task{UID: "8F1F2E6A-4C1D-4E2B-9B7A-0C3D5E7F9A11", Summary: "Buy milk", AllDay: true,
		Due: ptr(utc("2024-03-12T00:00:00Z")), Completed: ptr(utc("2024-03-11T17:00:00Z")), Status: "completed", Percent: 100})
	got.Summary = "Buy oat milk"
	b, err := EncodeTask(got, raw)
	if err != nil {
		t.Fatal(err)
	}
	if out := string(b); !strings.Contains(out, "BEGIN:VALARM") || !strings.Contains(out, "X-WR-ALARMUID") || !strings.Contains(out, "DUE;VALUE=DATE:20240312") {
		t.Errorf("the alarm or the date-only due was lost:\n%s", out)
	}
}

func TestDecodeTask(t *testing.T) {
	raw := read(t, "task.ics")
	got, err := DecodeTask(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := &tidbro.Task{
		UID: "20240301T100000Z-task-1@example.com", Summary: "Submit tax return", Description: "Forms in the blue folder",
		Start: ptr(utc("2024-04-01T07:00:00Z")), Due: ptr(utc("2024-05-02T15:00:00Z")), TimeZone: "Europe/Stockholm",
		Status: "in-process", Percent: 40, Priority: 1, Categories: []string{"Home", "Finance"}, Private: true,
	}
	same(t, got, want)

	got.Summary = "Edited"
	b, err := EncodeTask(got, raw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "X-APPLE-SORT-ORDER:12345") || !strings.Contains(string(b), "CREATED:20240301T100000Z") {
		t.Errorf("unknown properties lost:\n%s", b)
	}
}

func TestTaskRoundTrip(t *testing.T) {
	tests := []tidbro.Task{
		{UID: "t1", Summary: "Plain"},
		{UID: "t2", Summary: "Dated", AllDay: true, Start: ptr(utc("2024-06-01T00:00:00Z")), Due: ptr(utc("2024-06-03T00:00:00Z")),
			Completed: ptr(utc("2024-06-02T10:11:12Z")), Status: "completed", Percent: 100, Priority: 9, URL: "https://example.com/t2"},
		{UID: "t3", Due: ptr(utc("2024-11-05T16:00:00Z")), TimeZone: "America/New_York", Categories: []string{"a", "b"}, Private: true, Status: "cancelled"},
	}
	for _, tt := range tests {
		t.Run(tt.UID, func(t *testing.T) {
			b, err := EncodeTask(&tt, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeTask(b)
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			same(t, got, &tt)
		})
	}
}

func TestDecodeTaskErrors(t *testing.T) {
	for _, in := range []string{"", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:e\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:e\r\nDUE:tomorrow\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"} {
		if _, err := DecodeTask([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	// An event in a collection that also holds tasks is not a bad task.
	if _, err := DecodeTask([]byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:e\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")); !errors.Is(err, ErrOtherComponent) {
		t.Errorf("an event read as a task: %v, want ErrOtherComponent", err)
	}
}

// Writing an update over a resource without a UID in the body keeps the
// resource's UID (servers refuse a changed one).
func TestEncodeKeepsUID(t *testing.T) {
	due := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	first, err := EncodeTask(&tidbro.Task{Summary: "a", Due: &due}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t1, _ := DecodeTask(first)
	again, _ := EncodeTask(&tidbro.Task{Summary: "b", Due: &due}, first)
	if t2, _ := DecodeTask(again); t1.UID == "" || t2.UID != t1.UID {
		t.Errorf("task UID %q became %q", t1.UID, t2.UID)
	}
	ev := &tidbro.Event{Summary: "a", Start: due, End: due.Add(time.Hour)}
	firstEv, _ := EncodeEvent(ev, nil)
	e1, _ := DecodeEvent(firstEv)
	againEv, _ := EncodeEvent(ev, firstEv)
	if e2, _ := DecodeEvent(againEv); e1.UID == "" || e2.UID != e1.UID {
		t.Errorf("event UID %q became %q", e1.UID, e2.UID)
	}
	card, _ := EncodeContact(&tidbro.Contact{GivenName: "A"}, nil)
	c1, _ := DecodeContact(card)
	againCard, _ := EncodeContact(&tidbro.Contact{GivenName: "B"}, card)
	if c2, _ := DecodeContact(againCard); c1.UID == "" || c2.UID != c1.UID {
		t.Errorf("contact UID %q became %q", c1.UID, c2.UID)
	}
}
