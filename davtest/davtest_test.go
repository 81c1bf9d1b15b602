package davtest

import (
	"strings"
	"testing"
)

const principalQuery = `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>`

// Both servers start, answer a PROPFIND as a CalDAV client's first request,
// and keep a calendar object written to them.
func TestServersAnswer(t *testing.T) {
	for _, start := range []func(testing.TB) *Server{Radicale, Xandikos} {
		s := start(t)
		t.Run(s.Name, func(t *testing.T) {
			res, body, err := s.Do("PROPFIND", "/", principalQuery, "Depth", "0", "Content-Type", "application/xml")
			if err != nil || res.StatusCode != 207 || !strings.Contains(body, "current-user-principal") {
				t.Fatalf("PROPFIND: %v %v\n%s", err, res, body)
			}
			cal := s.Home + "calendars/calendar/"
			if s.Name == "radicale" {
				cal = s.Home + "work/"
				if res, body, err := s.Do("MKCALENDAR", cal, ""); err != nil || res.StatusCode != 201 {
					t.Fatalf("MKCALENDAR: %v %v\n%s", err, res, body)
				}
			}
			ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tidbro//test//EN\r\nBEGIN:VEVENT\r\nUID:davtest-1\r\nDTSTAMP:20260101T000000Z\r\n" +
				"DTSTART:20260504T090000Z\r\nDTEND:20260504T100000Z\r\nSUMMARY:Visit\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
			if res, body, err := s.Do("PUT", cal+"davtest-1.ics", ics, "Content-Type", "text/calendar", "If-None-Match", "*"); err != nil || res.StatusCode != 201 {
				t.Fatalf("PUT: %v %v\n%s", err, res, body)
			}
			if res, body, err := s.Do("GET", cal+"davtest-1.ics", ""); err != nil || res.StatusCode != 200 || !strings.Contains(body, "SUMMARY:Visit") {
				t.Fatalf("GET: %v %v\n%s", err, res, body)
			}
			// An outage, and back with the same storage.
			s.Stop()
			if _, _, err := s.Do("GET", cal+"davtest-1.ics", ""); err == nil {
				t.Fatal("a stopped server answered")
			}
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			if res, body, err := s.Do("GET", cal+"davtest-1.ics", ""); err != nil || res.StatusCode != 200 || !strings.Contains(body, "SUMMARY:Visit") {
				t.Fatalf("GET after a restart: %v %v\n%s", err, res, body)
			}
		})
	}
}
