// Package bench measures tidbro against real CalDAV/CardDAV servers
// (Radicale, Xandikos, tidbro's own) and against vdirsyncer syncing the
// same data, in one run, and writes the tables of BENCHMARKS.md. The
// command is cmd/tidbro-bench; a small smoke run is part of the test suite.
package bench

import (
	"fmt"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/ical"
)

var zones = []string{"Europe/Stockholm", "Europe/Berlin", "America/New_York", "Asia/Tokyo"}

// photo is a small JPEG-sized payload: contacts carry photos like a
// phone's address book does.
var photo = func() []byte {
	b := make([]byte, 3000)
	b[0], b[1], b[2] = 0xff, 0xd8, 0xff
	for i := 3; i < len(b); i++ {
		b[i] = byte(i * 7)
	}
	return b
}()

// Events returns n realistic events: a working calendar over the next
// year in several zones, one in ten a weekly series with an exception,
// most with an alarm, some all-day.
func Events(n int) []*tidbro.Event {
	base := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -20)
	out := make([]*tidbro.Event, n)
	for i := range n {
		loc, _ := time.LoadLocation(zones[i%len(zones)])
		day := base.AddDate(0, 0, i*300/max(n, 1))
		start := time.Date(day.Year(), day.Month(), day.Day(), 8+i%9, (i%4)*15, 0, 0, loc)
		ev := &tidbro.Event{
			Summary:     fmt.Sprintf("Customer visit %d", i),
			Description: fmt.Sprintf("Order %d: bring the spare parts.\nCall ahead.", 10000+i),
			Location:    fmt.Sprintf("Storgatan %d, Stockholm", 1+i%90),
			Start:       start.UTC(), End: start.Add(time.Duration(30+i%4*30) * time.Minute).UTC(),
			TimeZone:   zones[i%len(zones)],
			Categories: []string{"Customer"},
		}
		if i%3 != 0 {
			ev.Alarms = []tidbro.Alarm{{Action: "display", Trigger: "-PT15M", Description: "Reminder"}}
		}
		switch {
		case i%10 == 0:
			ev.RRule = "FREQ=WEEKLY;COUNT=20"
			moved := ev.Start.AddDate(0, 0, 14)
			ev.Overrides = []tidbro.Event{{RecurrenceID: &moved, Start: moved.Add(time.Hour), End: moved.Add(2 * time.Hour), Summary: ev.Summary + " (moved)"}}
		case i%17 == 0:
			d := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
			ev.AllDay, ev.TimeZone, ev.Alarms = true, "", nil
			ev.Start, ev.End = d, d.AddDate(0, 0, 1)
		}
		out[i] = ev
	}
	return out
}

// Contacts returns n contacts with photos, two e-mail addresses, phones
// and an address.
func Contacts(n int) []*tidbro.Contact {
	out := make([]*tidbro.Contact, n)
	for i := range n {
		out[i] = &tidbro.Contact{
			GivenName: fmt.Sprintf("Person%d", i), FamilyName: "Example", Organization: fmt.Sprintf("Company %d AB", i%200), Title: "Buyer",
			Emails: []tidbro.Email{{Type: "work", Address: fmt.Sprintf("p%d@company%d.example", i, i%200)}, {Type: "home", Address: fmt.Sprintf("p%d@home.example", i)}},
			Phones: []tidbro.Phone{{Type: "work", Number: fmt.Sprintf("+46 8 %07d", i)}, {Type: "mobile", Number: fmt.Sprintf("+46 70 %07d", i)}},
			Addresses: []tidbro.Address{{Type: "work", Street: fmt.Sprintf("Industrivägen %d", i%50), Locality: "Solna",
				PostalCode: "171 48", Country: "Sweden"}},
			Photo: &tidbro.Photo{MediaType: "image/jpeg", Data: photo},
		}
	}
	return out
}

// Files renders events or contacts as the files a client would hold:
// name → iCalendar or vCard, with stable UIDs.
func Files(events []*tidbro.Event, contacts []*tidbro.Contact) (map[string][]byte, error) {
	out := map[string][]byte{}
	for i, ev := range events {
		e := ev.Clone()
		e.UID = fmt.Sprintf("bench-event-%d", i)
		b, err := ical.EncodeEvent(e, nil)
		if err != nil {
			return nil, err
		}
		out[e.UID+".ics"] = b
	}
	for i, c := range contacts {
		k := c.Clone()
		k.UID = fmt.Sprintf("bench-contact-%d", i)
		b, err := ical.EncodeContact(k, nil)
		if err != nil {
			return nil, err
		}
		out[k.UID+".vcf"] = b
	}
	return out, nil
}
