package remotetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"time"

	"github.com/tidbro/tidbro"
)

// berlin is the zone of the sample events: it has daylight saving time, and
// Graph maps its Windows name back to it unambiguously.
var berlin = mustZone("Europe/Berlin")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// Sample returns a new item of kind k, in canonical form, with everything
// tidbro models for that kind that every connector is expected to carry:
//
//   - event: a weekly series (RRULE) with an EXDATE, one override, an alarm,
//     categories and the private flag;
//   - task: an all-day due date, priority, status and categories;
//   - contact: name parts, two e-mails, a phone, an address and a PNG photo.
//
// n makes the UID and the title distinct, so several samples can live in
// one collection.
func Sample(k tidbro.Kind, n int) *tidbro.RemoteItem {
	it := &tidbro.RemoteItem{Kind: k}
	uid := fmt.Sprintf("remotetest-%s-%d@tidbro.invalid", k, n)
	switch k {
	case tidbro.KindEvent, tidbro.KindJob:
		start := time.Date(2026, 3, 2, 9, 0, 0, 0, berlin) // a Monday
		instance := start.AddDate(0, 0, 14)
		e := &tidbro.Event{
			UID:         uid,
			Summary:     fmt.Sprintf("Weekly planning with the whole team %d", n),
			Description: "Agenda:\n1. Last week\n2. This week",
			Location:    "Room 4.2, Hauptstraße 1",
			Start:       start,
			End:         start.Add(time.Hour),
			TimeZone:    "Europe/Berlin",
			RRule:       "FREQ=WEEKLY;COUNT=10;BYDAY=MO",
			ExDates:     []time.Time{start.AddDate(0, 0, 7)},
			Private:     true,
			Categories:  []string{"Planning", "Team"},
			Alarms:      []tidbro.Alarm{{Action: "display", Trigger: "-PT15M"}},
		}
		// An override is a whole instance (as in iCalendar and in Graph's
		// exceptions): it repeats the series' fields it does not change.
		o := *e
		o.RRule, o.ExDates = "", nil
		o.RecurrenceID = &instance
		o.Summary = fmt.Sprintf("Weekly planning, later %d", n)
		o.Start, o.End = instance.Add(2*time.Hour), instance.Add(3*time.Hour)
		e.Overrides = []tidbro.Event{o}
		it.Event = e
	case tidbro.KindTask:
		due := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
		it.Task = &tidbro.Task{
			UID:         uid,
			Summary:     fmt.Sprintf("Send the quarterly report to the board %d", n),
			Description: "Numbers from finance, slides from marketing",
			Due:         &due,
			AllDay:      true,
			Status:      "in-process",
			Priority:    1,
			Categories:  []string{"Reports"},
		}
	default:
		it.Contact = &tidbro.Contact{
			UID:          uid,
			DisplayName:  fmt.Sprintf("Dr. Ada Lovelace %d", n),
			Prefix:       "Dr.",
			GivenName:    "Ada",
			FamilyName:   fmt.Sprintf("Lovelace %d", n),
			Organization: "Analytical Engines Ltd",
			Title:        "Chief Mathematician",
			Emails: []tidbro.Email{
				{Type: "work", Address: fmt.Sprintf("ada%d@example.com", n), Preferred: true},
				{Type: "home", Address: fmt.Sprintf("ada%d@example.org", n)},
			},
			Phones:    []tidbro.Phone{{Type: "mobile", Number: "+44 20 7946 0958"}},
			Addresses: []tidbro.Address{{Type: "work", Street: "12 St James's Square", Locality: "London", PostalCode: "SW1Y 4JH", Country: "United Kingdom"}},
			Note:      "Met at the conference; prefers e-mail.",
			Birthday:  "1815-12-10",
			Photo:     &tidbro.Photo{MediaType: "image/png", Data: samplePNG},
		}
	}
	c, err := canonical(it)
	if err != nil {
		panic(err) // the samples above are valid
	}
	return c
}

// samplePNG is a tiny but real PNG, so servers that inspect photos accept it.
var samplePNG = func() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{R: 0xd0, G: 0x30, B: 0x30, A: 0xff})
	img.Set(1, 1, color.RGBA{R: 0x30, G: 0x30, B: 0xd0, A: 0xff})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}()

// window is the range of the window subtest, and the events placed around it.
var window = tidbro.TimeRange{
	From: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
	To:   time.Date(2026, 6, 8, 0, 0, 0, 0, time.UTC),
}

func windowEvents() (inside, outside map[string]*tidbro.Event) {
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, berlin) }
	ev := func(uid, summary string, start time.Time, rrule string) *tidbro.Event {
		return &tidbro.Event{UID: uid + "@tidbro.invalid", Summary: summary, Start: start, End: start.Add(time.Hour), TimeZone: "Europe/Berlin", RRule: rrule}
	}
	allDay := time.Date(2026, 6, 5, 0, 0, 0, 0, time.UTC)
	inside = map[string]*tidbro.Event{
		"single":  ev("remotetest-window-single", "Inside the window", at(2026, 6, 3, 10), ""),
		"series":  ev("remotetest-window-series", "Weekly since April", at(2026, 4, 1, 9), "FREQ=WEEKLY"),
		"all-day": {UID: "remotetest-window-allday@tidbro.invalid", Summary: "All day inside", Start: allDay, End: allDay.AddDate(0, 0, 1), AllDay: true},
	}
	outside = map[string]*tidbro.Event{
		"later": ev("remotetest-window-later", "After the window", at(2026, 7, 15, 10), ""),
		"ended": ev("remotetest-window-ended", "Three weeks in April", at(2026, 4, 1, 9), "FREQ=WEEKLY;COUNT=3"),
	}
	return inside, outside
}

// canonical returns a copy of it with its body in the form tidbro stores
// (a JSON round trip normalises times and fills defaults).
func canonical(it *tidbro.RemoteItem) (*tidbro.RemoteItem, error) {
	c := *it
	c.Event, c.Task, c.Contact = nil, nil, nil
	var err error
	switch {
	case it.Event != nil:
		c.Event, err = roundTrip(it.Event)
	case it.Task != nil:
		c.Task, err = roundTrip(it.Task)
	case it.Contact != nil:
		c.Contact, err = roundTrip(it.Contact)
	}
	if err != nil {
		return nil, fmt.Errorf("remotetest: canonical form of %s %q: %w", it.Kind, it.ID, err)
	}
	return &c, nil
}

func roundTrip[T any](v *T) (*T, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := new(T)
	return out, json.Unmarshal(b, out)
}
